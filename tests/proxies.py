"""A created proxy, foobar/servicea -> foo/servicea, and its callers: what the deletion tests share."""

from __future__ import annotations

from tests.memory import MemoryCluster
from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.core.objects import Service, ServicePort
from webhook.core.proxies import build_proxy
from webhook.dev import seed


def proxy(**annotations: str) -> JsonObject:
    manifest = build_proxy(
        Service("foo", "servicea", ports=(ServicePort(80),)), old_namespace="foobar", cluster_domain="cluster.local"
    )
    manifest["metadata"]["annotations"].update(annotations)
    return manifest


def cluster(*extra: JsonObject, terminating: bool = False) -> MemoryCluster:
    foobar = seed.namespace("foobar", {labels.SOURCE: "true"})
    if terminating:
        foobar["status"] = {"phase": "Terminating"}
    return MemoryCluster.of(foobar, seed.namespace("bar"), proxy(), *extra)


def appc(namespace: str = "foobar", url: str = "http://servicea/", name: str = "appc") -> JsonObject:
    return seed.deployment(name, namespace, {"SERVICEA_URL": url})
