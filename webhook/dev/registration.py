"""The webhook registrations of the dev control plane and the e2e tests: the chart's own, rendered.

What users install and what the tests prove are one configuration: ``helm template`` of the chart,
with a URL client config for a webhook on loopback and the dev CA as ``caBundle``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from webhook.core.fields import JsonObject
from webhook.core.settings import Settings
from webhook.dev import chart

NAME = chart.RELEASE
"""The name of both configurations (the chart's fullname for its release)."""

TEMPLATES = ("templates/mutatingwebhookconfiguration.yaml", "templates/validatingwebhookconfiguration.yaml")


def configurations(*, url: str, ca_bundle: bytes, settings: Settings, timeout_seconds: int = 5) -> list[JsonObject]:
    """Both registrations as the chart renders them, mutating first, calling ``url``."""
    with tempfile.TemporaryDirectory() as scratch:
        bundle = Path(scratch) / "ca.crt"
        bundle.write_bytes(ca_bundle)
        rendered = chart.render(
            f"webhook.url={url}",
            "certificates.mode=secret",
            f"webhook.failurePolicy={settings.failure_policy}",
            f"webhook.timeoutSeconds={timeout_seconds}",
            f"webhook.clusterDomain={settings.cluster_domain}",
            files=[f"certificates.caBundle={bundle}"],
            namespace=settings.own_namespace,
            show_only=TEMPLATES,
        )
    documents = [document for document in yaml.safe_load_all(rendered) if isinstance(document, dict)]
    return sorted(documents, key=lambda document: document["kind"] != "MutatingWebhookConfiguration")
