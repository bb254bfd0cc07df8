"""The chart's alert rules and dashboard queries, and the metric names a /metrics text exports: what the
monitoring tests, unit and end to end, share."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import yaml

from webhook.dev import chart

DASHBOARD = chart.CHART / "dashboards" / "nsmigrate.json"
API_SERVER_METRICS = {"apiserver_admission_webhook_rejection_count", "apiserver_admission_webhook_fail_open_count"}
"""Read from kube-apiserver's own /metrics: the calls that never reached nsmigrate."""
SELF = {"job": "nsmigrate", "namespace": "nsmigrate"}


@functools.cache
def rules(*sets: str) -> dict[str, Any]:
    rendered = chart.render("prometheusRule.enabled=true", *sets, show_only=["templates/prometheusrule.yaml"])
    return {"groups": yaml.safe_load(rendered)["spec"]["groups"]}


def queries() -> list[str]:
    expressions = [
        rule["expr"]
        for policy in ("Fail", "Ignore")
        for rule in rules(f"webhook.failurePolicy={policy}")["groups"][0]["rules"]
    ]
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return expressions + [target["expr"] for panel in panels for target in panel["targets"]]


def exported(text: str) -> set[str]:
    """Every sample name this /metrics text can show (counters as _total, histograms as _bucket...)."""
    suffixes = {"counter": ["_total", "_created"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, flags=re.MULTILINE):
        base = name.removesuffix("_total") if kind == "counter" else name
        names |= {base + suffix for suffix in suffixes.get(kind, [""])}
    return names


def queried() -> set[str]:
    """The metrics nsmigrate's own /metrics must have for the rules and the dashboard."""
    names = {name for query in queries() for name in re.findall(r"\b(?:nsmigrate|apiserver)_\w+", query)}
    assert names - API_SERVER_METRICS
    return names - API_SERVER_METRICS
