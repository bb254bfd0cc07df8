"""The running server's /metrics: every metric the chart's alerts and dashboard query is there."""

from __future__ import annotations

import time

import pytest

from tests.e2e.helpers import metrics
from tests.monitoring import exported, queried
from webhook.dev.environment import DevEnvironment
from webhook.http.metrics import sample

pytestmark = pytest.mark.e2e


def test_the_served_metrics_hold_every_metric_the_chart_queries(dev: DevEnvironment) -> None:
    text = metrics(dev)
    assert queried() - exported(text) == set()
    assert time.time() < sample(text, "nsmigrate_certificate_expiry_timestamp_seconds") < time.time() + 400 * 86400
