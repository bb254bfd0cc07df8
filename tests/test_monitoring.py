"""The chart's alert rules and Grafana dashboard: valid for promtool, firing as described, and querying
only metrics that the server really exports."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.memory import MemoryCluster
from tests.monitoring import SELF, exported, queried, rules
from webhook.core.settings import Settings
from webhook.dev import seed
from webhook.dev.controlplane import find_binaries
from webhook.http.app import create_app


def promtool() -> str:
    """promtool as `make test` builds it (from the Go module proxy, like the control plane)."""
    return str(find_binaries("promtool")["promtool"])


def test_every_metric_the_rules_and_the_dashboard_query_is_exported() -> None:
    cluster = MemoryCluster.of(*seed.old_namespace(), seed.new_namespace("foo"))
    text = create_app(Settings(), cluster).test_client().get("/metrics").get_data(as_text=True)
    assert queried() - exported(text) == set()


@pytest.mark.parametrize("policy", ["Fail", "Ignore"])
def test_rules_pass_promtool(tmp_path: Path, policy: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rules(f"webhook.failurePolicy={policy}")))
    checked = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def series(name: str, values: str, **labels: str) -> dict[str, str]:
    selector = ",".join(f'{key}="{value}"' for key, value in {**SELF, **labels}.items())
    return {"series": f"{name}{{{selector}}}", "values": values}


CALLED_DAYS = 2
"""Short enough for promtool to evaluate quickly (the default is 14)."""


def expected(alert: str, **labels: str) -> dict[str, Any]:
    """The alert with these labels, its annotations filled in as Prometheus would."""
    group = rules(f"prometheusRule.proxyCalledDays={CALLED_DAYS}")["groups"][0]
    (rule,) = [rule for rule in group["rules"] if rule.get("alert") == alert]
    annotations = {
        key: re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)
        for key, text in rule["annotations"].items()
    }
    return {"exp_labels": {**rule["labels"], **labels}, "exp_annotations": annotations}


def test_alerts_fire_as_described(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules(f"prometheusRule.proxyCalledDays={CALLED_DAYS}")))
    day = 24  # samples, one an hour
    proxy_still_called = {
        "interval": "1h",
        "input_series": [
            series("nsmigrate_proxy_callers", f"2x{4 * day}", proxy="foobar/servicea", kind="proxy"),
            series("nsmigrate_proxy_callers", f"2x{day} 0x{3 * day}", proxy="foobar/serviceb", kind="proxy"),
            series("nsmigrate_proxy_callers", f"_x{2 * day} 1x{2 * day}", proxy="foobar/young", kind="proxy"),
            series("nsmigrate_cache_synced", f"1x{4 * day}", pod="a"),
            series("nsmigrate_certificate_expiry_timestamp_seconds", f"{90 * 86400}x{4 * day}", pod="a"),
        ],
        "alert_rule_test": [
            {
                "eval_time": "3d",
                "alertname": "NsmigrateProxyStillCalled",
                "exp_alerts": [expected("NsmigrateProxyStillCalled", proxy="foobar/servicea")],
            },
            {"eval_time": "3d", "alertname": "NsmigrateNoReadyReplica", "exp_alerts": []},
            {"eval_time": "3d", "alertname": "NsmigrateCertificateExpiring", "exp_alerts": []},
        ],
    }
    failing = {
        "interval": "1m",
        "input_series": [
            series("nsmigrate_cache_synced", "0x30", pod="a"),
            series("nsmigrate_certificate_expiry_timestamp_seconds", f"{5 * 86400}x120", pod="a"),
            series("nsmigrate_internal_errors_total", "0+1x30", endpoint="mutate"),
            {
                "series": 'apiserver_admission_webhook_rejection_count{name="workloads.nsmigrate.io",'
                'operation="CREATE",error_type="calling_webhook_error",rejection_code="500"}',
                "values": "0+1x30",
            },
        ],
        "alert_rule_test": [
            {"eval_time": "3m", "alertname": "NsmigrateNoReadyReplica", "exp_alerts": []},
            {
                "eval_time": "10m",
                "alertname": "NsmigrateNoReadyReplica",
                "exp_alerts": [expected("NsmigrateNoReadyReplica")],
            },
            {
                "eval_time": "10m",
                "alertname": "NsmigrateAdmissionErrors",
                "exp_alerts": [expected("NsmigrateAdmissionErrors", endpoint="mutate")],
            },
            {
                "eval_time": "10m",
                "alertname": "NsmigrateWebhookFailingClosed",
                "exp_alerts": [
                    expected("NsmigrateWebhookFailingClosed", name="workloads.nsmigrate.io", operation="CREATE")
                ],
            },
            {
                "eval_time": "90m",
                "alertname": "NsmigrateCertificateExpiring",
                "exp_alerts": [expected("NsmigrateCertificateExpiring")],
            },
        ],
    }
    nothing_scraped = {
        "interval": "1m",
        "input_series": [],
        "alert_rule_test": [
            {
                "eval_time": "10m",
                "alertname": "NsmigrateNoReadyReplica",
                "exp_alerts": [expected("NsmigrateNoReadyReplica")],
            }
        ],
    }
    tests = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [proxy_still_called, failing, nothing_scraped],
    }
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests))
    done = subprocess.run(
        [promtool(), "test", "rules", "tests.yaml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
