"""The consumer objects commands judge (Ingresses, Gateway routes and ReferenceGrants, Prometheus
monitors, namespace annotations), listed live; a kind the cluster does not serve, or that the caller may
not list, is simply absent."""

from __future__ import annotations

from dataclasses import dataclass, field

from webhook.core.consumers import (
    Backends,
    Grant,
    Monitor,
    backends_from_object,
    grant_from_object,
    monitor_from_object,
)
from webhook.core.fields import strings
from webhook.kube.client import Kube


@dataclass
class ConsumerObjects:
    routes: list[Backends] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    monitors: list[Monitor] = field(default_factory=list)
    namespace_annotations: dict[str, dict[str, str]] = field(default_factory=dict)


def list_consumers(kube: Kube) -> ConsumerObjects:
    found = ConsumerObjects()
    found.routes = [
        backends_from_object({**obj, "kind": kind})
        for kind in ("Ingress", "HTTPRoute", "GRPCRoute")
        for obj in kube.list_served(kind)
    ]
    found.grants = [grant_from_object(obj) for obj in kube.list_served("ReferenceGrant")]
    found.monitors = [
        monitor_from_object({**obj, "kind": kind})
        for kind in ("ServiceMonitor", "PodMonitor")
        for obj in kube.list_served(kind)
    ]
    found.namespace_annotations = {
        str(obj["metadata"]["name"]): strings(obj["metadata"].get("annotations"))
        for obj in kube.list_served("Namespace")
    }
    return found
