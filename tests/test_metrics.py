"""Metrics computed when scraped: the serving certificate's expiry and each proxy's remaining callers."""

from __future__ import annotations

import math
from pathlib import Path

from webhook.core.callers import Caller
from webhook.core.certs import make_ca, make_serving_cert
from webhook.core.report import ProxyStatus
from webhook.http.metrics import Metrics, sample


def test_certificate_expiry_is_the_not_after_of_the_file_on_disk(tmp_path: Path) -> None:
    metrics = Metrics()
    metrics.follow_certificate(str(tmp_path / "tls.crt"))
    assert math.isnan(sample(metrics.render().decode(), "nsmigrate_certificate_expiry_timestamp_seconds"))
    pair = make_serving_cert(make_ca(), dns_names=["nsmigrate.nsmigrate.svc"], days=30)
    cert, _ = pair.write(tmp_path, "tls")
    exported = sample(metrics.render().decode(), "nsmigrate_certificate_expiry_timestamp_seconds")
    assert exported == pair.cert.not_valid_after_utc.timestamp()
    assert cert == tmp_path / "tls.crt"


def test_proxy_callers_are_counted_per_proxy_at_most_once_a_minute() -> None:
    metrics = Metrics()
    searches = []
    appc = Caller("Deployment", "foobar", "appc", ("env SERVICEA_URL",))

    def statuses() -> list[ProxyStatus]:
        searches.append(1)
        return [
            ProxyStatus("foobar/servicea", "foo/servicea", target_exists=True, callers=[appc]),
            ProxyStatus("foobar/serviceb", "bar/serviceb", target_exists=True, callers=[], kind="mirrored"),
        ]

    metrics.proxy_callers.statuses = statuses
    text = metrics.render().decode()
    assert sample(text, "nsmigrate_proxy_callers", proxy="foobar/servicea", kind="proxy") == 1
    assert sample(text, "nsmigrate_proxy_callers", proxy="foobar/serviceb", kind="mirrored") == 0
    assert "nsmigrate_proxy_callers{" in text
    metrics.render()
    assert len(searches) == 1
