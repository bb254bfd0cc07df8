"""The registration the e2e tests run against is the one users install: the chart's, rendered."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from webhook.core.fields import JsonObject
from webhook.dev import chart, registration
from webhook.kube.client import Kube

DIFFERENT_ON_PURPOSE = ("clientConfig",)
"""The dev webhook is reached by URL on loopback, the chart's through its Service."""


def _as_rendered(live: JsonObject, rendered: JsonObject) -> list[dict[str, Any]]:
    """Each live webhook, reduced to the fields the chart sets (the API server adds its defaults)."""
    return [
        {key: hook.get(key) for key in template if key not in DIFFERENT_ON_PURPOSE}
        for hook, template in zip(live["webhooks"], rendered["webhooks"], strict=True)
    ]


@pytest.mark.parametrize("kind", ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"])
def test_registered_webhooks_are_the_charts_default_render(kube: Kube, kind: str) -> None:
    installed = {
        document["kind"]: document
        for document in yaml.safe_load_all(chart.render(show_only=registration.TEMPLATES))
        if isinstance(document, dict)
    }[kind]
    live = kube.get(kind, None, registration.NAME)
    assert live is not None
    rendered = [{k: v for k, v in hook.items() if k not in DIFFERENT_ON_PURPOSE} for hook in installed["webhooks"]]
    assert _as_rendered(live, installed) == rendered
    assert all(hook["clientConfig"]["url"].startswith("https://127.0.0.1:") for hook in live["webhooks"])
