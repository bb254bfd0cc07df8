"""Only the API server is heard: the issue's forgeries, over the wire, against the dev webhook.

The API server presents its admission client certificate (the dev control plane's
AdmissionConfiguration); every other caller of /mutate and /validate is refused before any decision.
"""

from __future__ import annotations

import dataclasses
import json
import ssl
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import SETTINGS
from tests.e2e.helpers import api_server_tls, events_on, eventually, metrics, migrating, post_review, with_proxy
from tests.reviews import review
from webhook.core import certs
from webhook.core.clientauth import API_SERVER_CLIENT_NAME
from webhook.dev import seed
from webhook.dev.environment import DevEnvironment
from webhook.dev.processes import free_port, stop_pid
from webhook.http.metrics import sample
from webhook.kube.client import Kube

pytestmark = pytest.mark.e2e


def post(port: int, path: str, body: dict[str, Any], context: ssl.SSLContext) -> int:
    return post_review(port, path, body, context)[0]


def presenting(dev: DevEnvironment, tmp_path: Path, pair: certs.KeyPair | None) -> ssl.SSLContext:
    """TLS trusting the webhook, presenting ``pair`` (None: no client certificate)."""
    context = ssl.create_default_context(cafile=str(dev.workdir / "webhook-certs" / "ca.crt"))
    if pair is not None:
        cert, key = pair.write(tmp_path, f"client-{pair.cert.serial_number}")
        context.load_cert_chain(cert, key)
    return context


def admission_client_ca(dev: DevEnvironment) -> certs.KeyPair:
    pki = dev.control_plane.admission_client_ca.parent
    return certs.KeyPair.from_pem(
        (pki / "admission-client-ca.crt").read_bytes(), (pki / "admission-client-ca.key").read_bytes()
    )


def refusals(dev: DevEnvironment, port: int | None = None) -> dict[str, float]:
    text = metrics(dev, port)
    reasons = ("no-certificate", "subject-not-allowed", "untrusted-certificate")
    return {reason: sample(text, "nsmigrate_requests_refused_total", reason=reason) for reason in reasons}


def forged_mutation(new: str, user: str) -> dict[str, Any]:
    """The issue's first forgery: a Deployment ``ghost`` that never existed, whose labels match a
    Service of the migrating namespace."""
    body = review(seed.deployment("ghost", new, {}))
    body["request"]["userInfo"] = {"username": user, "groups": ["system:authenticated"]}
    return body


def forged_deletion(kube: Kube, old: str, user: str) -> dict[str, Any]:
    """The second: the DELETE of a proxy with callers, in someone else's name."""
    body = review(None, operation="DELETE", old=kube.get("Service", old, "servicea"))
    body["request"]["userInfo"] = {"username": user, "groups": ["system:authenticated"]}
    return body


def impostors(dev: DevEnvironment, tmp_path: Path) -> dict[str, ssl.SSLContext]:
    """A caller without a certificate, with the right name from another CA (same CA name, another key),
    and with the right CA but another name."""
    other_ca = certs.make_ca("nsmigrate-dev-admission-client-ca")
    other_ca_client = certs.make_client_cert(other_ca, user=API_SERVER_CLIENT_NAME)
    wrong_subject = certs.make_client_cert(admission_client_ca(dev), user="mallory")
    return {
        "no-certificate": presenting(dev, tmp_path, None),
        "untrusted-certificate": presenting(dev, tmp_path, other_ca_client),
        "subject-not-allowed": presenting(dev, tmp_path, wrong_subject),
    }


def send_as_impostor(port: int, path: str, body: dict[str, Any], reason: str, context: ssl.SSLContext) -> None:
    if reason == "untrusted-certificate":
        with pytest.raises(OSError, match=r"(?i)alert|certificate|reset|EOF"):
            post(port, path, body, context)
    else:
        assert post(port, path, body, context) == 403


def test_forged_mutations_are_refused_and_create_nothing(
    dev: DevEnvironment, kube: Kube, names: tuple[str, str], tmp_path: Path
) -> None:
    old, new = names
    migrating(kube, old, new)  # old/appc calls servicea; the live old servicea is retired
    kube.apply(seed.service("servicea", new, "ghost"))
    before = refusals(dev)

    for reason, context in impostors(dev, tmp_path).items():
        send_as_impostor(dev.webhook_port, "/mutate", forged_mutation(new, f"mallory-{reason}"), reason, context)
        assert kube.get("Service", old, "servicea") is None, f"{reason}: a proxy was created"

    after = refusals(dev)
    assert {reason: after[reason] - before[reason] for reason in after} == dict.fromkeys(after, 1.0)
    # The same review from the API server's certificate does what the attacker wanted: the refusals
    # above are what kept it from happening.
    assert post(dev.webhook_port, "/mutate", forged_mutation(new, "alice"), api_server_tls(dev)) == 200
    assert kube.get("Service", old, "servicea") is not None


def test_forged_deletions_are_refused_without_event_log_or_audit(
    dev: DevEnvironment, kube: Kube, names: tuple[str, str], tmp_path: Path
) -> None:
    old, new = names
    with_proxy(kube, old, new)
    denied = f'nsmigrate_proxy_deletions_denied_total{{namespace="{old}"}}'

    for reason, context in impostors(dev, tmp_path).items():
        send_as_impostor(
            dev.webhook_port, "/validate", forged_deletion(kube, old, f"mallory-{reason}"), reason, context
        )
    assert denied not in metrics(dev)

    assert post(dev.webhook_port, "/validate", forged_deletion(kube, old, "alice"), api_server_tls(dev)) == 200
    assert denied in metrics(dev)
    eventually(lambda: events_on(kube, old, "ProxyDeletionDenied"))
    log = (dev.workdir / "webhook.log").read_text()
    assert "alice" in log
    assert "mallory" not in log, "no log line claims the impostors' users"
    assert not any("mallory" in event.get("message", "") for event in events_on(kube, old, "ProxyDeletionDenied"))


def test_with_verification_off_the_server_warns_at_start_and_hears_anyone(
    dev: DevEnvironment, names: tuple[str, str], tmp_path: Path
) -> None:
    port, log = free_port(), dev.workdir / "unverified-webhook.log"
    pid = dev.serve(dataclasses.replace(SETTINGS, client_verification=False), port=port, log=log)
    try:
        assert post(port, "/mutate", forged_mutation(names[1], "anyone"), presenting(dev, tmp_path, None)) == 200
    finally:
        stop_pid(pid)
    warnings = [json.loads(line) for line in log.read_text().splitlines() if "client_verification_disabled" in line]
    assert warnings
    assert warnings[0]["level"] == "warning"
