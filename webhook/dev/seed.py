"""The seed scenario of SPEC.md as manifests: used by the demo and the end-to-end tests.

Namespace ``foobar`` holds ``appa``, ``appb``, ``appc``, each a Deployment behind a Service of the
same letter; ``appa`` calls ``http://serviceb/``, ``appc`` calls ``http://servicea/``. Then ``appa``
moves to ``foo``.
"""

from __future__ import annotations

from collections.abc import Mapping

from webhook.core import labels
from webhook.core.fields import JsonObject

IMAGE = "registry.k8s.io/pause:3.10"
CALLS = {"a": {"SERVICEB_URL": "http://serviceb/"}, "b": {}, "c": {"SERVICEA_URL": "http://servicea/"}}


def namespace(name: str, namespace_labels: Mapping[str, str] | None = None) -> JsonObject:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(namespace_labels or {})}}


def deployment(name: str, namespace: str, env: Mapping[str, str]) -> JsonObject:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": name,
                            "image": IMAGE,
                            "env": [{"name": key, "value": value} for key, value in env.items()],
                        }
                    ]
                },
            },
        },
    }


def service(name: str, namespace: str, app: str, *, port: int = 80, target_port: int = 8080) -> JsonObject:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"app": app},
            "ports": [{"name": "http", "port": port, "targetPort": target_port, "protocol": "TCP"}],
        },
    }


def app(letter: str, namespace: str) -> list[JsonObject]:
    """``service<letter>`` and ``app<letter>``, Service first as ``kubectl apply -f dir/`` would."""
    return [
        service(f"service{letter}", namespace, f"app{letter}"),
        deployment(f"app{letter}", namespace, CALLS[letter]),
    ]


def old_namespace(name: str = "foobar") -> list[JsonObject]:
    """The shared namespace, consenting to proxies, with its three applications."""
    manifests = [namespace(name, {labels.SOURCE: "true"})]
    for letter in "abc":
        manifests += app(letter, name)
    return manifests


def new_namespace(name: str = "foo", *, old: str = "foobar") -> JsonObject:
    return namespace(name, {labels.MIGRATE_FROM: old})
