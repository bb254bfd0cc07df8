"""A handed-over Service as the mirror tests see it: foobar/servicea handed over to foo/servicea."""

from __future__ import annotations

import json

from tests.memory import MemoryCluster
from webhook.core import labels
from webhook.core.fields import JsonObject


def cluster(*extra: JsonObject, old: JsonObject | None = None) -> MemoryCluster:
    """foobar/servicea handed over to foo/servicea, whose slice holds one ready pod."""
    return MemoryCluster.of(
        {"kind": "Namespace", "metadata": {"name": "foobar", "labels": {labels.SOURCE: "true"}}},
        {"kind": "Namespace", "metadata": {"name": "foo", "labels": {labels.MIGRATE_FROM: "foobar"}}},
        old or handed_over(),
        {"kind": "Service", "metadata": {"name": "servicea", "namespace": "foo"},
         "spec": {"selector": {"app": "appa"}, "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}},
        slice_object("foo", "servicea-abc", labels.SLICE_CONTROLLER, "10.1.0.1"),
        *extra,
    )  # fmt: skip


def handed_over(**spec: object) -> JsonObject:
    original = {"selector": {"app": "appa"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    return {
        "kind": "Service",
        "metadata": {
            "name": "servicea", "namespace": "foobar", "uid": "uid-old",
            "labels": {labels.PROXY: "true"},
            "annotations": {labels.PROXY_FOR: "foo/servicea", labels.ORIGINAL_SPEC: json.dumps(original)},
        },
        "spec": {"clusterIP": "10.0.0.10", "ports": [{"name": "http", "port": 80, "targetPort": 8080}], **spec},
    }  # fmt: skip


def slice_object(namespace: str, name: str, manager: str, *ips: str, port: int = 8080) -> JsonObject:
    return {
        "kind": "EndpointSlice",
        "metadata": {
            "name": name, "namespace": namespace, "uid": f"uid-{name}",
            "labels": {labels.SERVICE_NAME: "servicea", labels.SLICE_MANAGED_BY: manager},
        },
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips],
    }  # fmt: skip
