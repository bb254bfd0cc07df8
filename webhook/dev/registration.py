"""The webhook registrations nsmigrate needs, as plain manifests (dev tools and the chart agree)."""

from __future__ import annotations

import base64

from webhook.core import labels
from webhook.core.objects import JsonObject
from webhook.core.settings import Settings

NAME = "nsmigrate"

# The workload kinds of objects.POD_TEMPLATE_PATHS, by API group.
_RESOURCES = {
    "apps": ["deployments", "statefulsets", "daemonsets"],
    "batch": ["jobs", "cronjobs"],
}


def client_config(
    *, url: str | None = None, service: tuple[str, str, int] | None = None, ca_bundle: bytes
) -> JsonObject:
    """How the API server reaches the webhook: a URL (dev) or an in-cluster Service (ns, name, port)."""
    config: JsonObject = {"caBundle": base64.b64encode(ca_bundle).decode()}
    if url:
        config["url"] = url
    elif service:
        namespace, name, port = service
        config["service"] = {"namespace": namespace, "name": name, "port": port}
    else:
        raise ValueError("a webhook client config needs a url or a service")
    return config


def mutating_configuration(*, client: JsonObject, settings: Settings, timeout_seconds: int = 5) -> JsonObject:
    """Workloads created or updated in namespaces labelled migrate-from go through /mutate."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": NAME, "labels": {labels.MANAGED_BY: labels.MANAGER}},
        "webhooks": [
            {
                "name": "workloads.nsmigrate.io",
                "clientConfig": {**client, **_path(client, "/mutate")},
                "rules": [
                    {
                        "apiGroups": [group],
                        "apiVersions": ["v1"],
                        "resources": resources,
                        "operations": ["CREATE", "UPDATE"],
                        "scope": "Namespaced",
                    }
                    for group, resources in _RESOURCES.items()
                ],
                "namespaceSelector": {
                    "matchExpressions": [
                        {"key": labels.MIGRATE_FROM, "operator": "Exists"},
                        {
                            "key": "kubernetes.io/metadata.name",
                            "operator": "NotIn",
                            "values": sorted(settings.protected_namespaces),
                        },
                    ]
                },
                "sideEffects": "NoneOnDryRun",
                "timeoutSeconds": timeout_seconds,
                "reinvocationPolicy": "IfNeeded",
                "matchPolicy": "Equivalent",
                "admissionReviewVersions": ["v1"],
                "failurePolicy": settings.failure_policy,
            }
        ],
    }


def validating_configuration(*, client: JsonObject, settings: Settings, timeout_seconds: int = 5) -> JsonObject:
    """DELETE of nsmigrate's proxies goes through /validate; the objectSelector keeps every other
    Service away, so deleting ordinary Services is never slowed or blocked."""
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": NAME, "labels": {labels.MANAGED_BY: labels.MANAGER}},
        "webhooks": [
            {
                "name": "proxies.nsmigrate.io",
                "clientConfig": {**client, **_path(client, "/validate")},
                "rules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["services"],
                        "operations": ["DELETE"],
                        "scope": "Namespaced",
                    }
                ],
                "objectSelector": {"matchLabels": {labels.MANAGED_BY: labels.MANAGER}},
                "namespaceSelector": {
                    "matchExpressions": [
                        {
                            "key": "kubernetes.io/metadata.name",
                            "operator": "NotIn",
                            "values": sorted(settings.protected_namespaces),
                        }
                    ]
                },
                # The audit trail of a dry-run denial is observability, not a change to any object.
                "sideEffects": "NoneOnDryRun",
                "timeoutSeconds": timeout_seconds,
                "matchPolicy": "Equivalent",
                "admissionReviewVersions": ["v1"],
                "failurePolicy": settings.failure_policy,
            }
        ],
    }


def configurations(*, client: JsonObject, settings: Settings) -> list[JsonObject]:
    """Both registrations, mutating first."""
    return [
        mutating_configuration(client=client, settings=settings),
        validating_configuration(client=client, settings=settings),
    ]


def _path(client: JsonObject, path: str) -> JsonObject:
    if "url" in client:
        return {"url": client["url"].rstrip("/") + path}
    return {"service": {**client["service"], "path": path}}
