"""Handover: the live Service left in the old namespace becomes the proxy, in one UPDATE, once the
new side serves; rollback restores it.

Until then the old Service keeps answering with the old pods; after the UPDATE its name is a CNAME to
the new Service. DNS switches in one step, with no moment where the name is missing.
"""

from __future__ import annotations

import copy
import datetime
import json
from dataclasses import dataclass

from webhook.core import labels
from webhook.core.cluster import ClusterView
from webhook.core.migration import migration_of
from webhook.core.objects import JsonObject, Service
from webhook.core.proxies import proxy_ports
from webhook.core.rewrite import full_name
from webhook.core.settings import Settings

SERVING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Pod"})
"""What a Service's pods come from (Pods only when nothing controls them)."""


@dataclass(frozen=True)
class Handover:
    """A live old-namespace Service whose name a moved Service took over, and whether it may go now."""

    namespace: str
    name: str
    target: Service
    ready: bool
    reason: str

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}"


def pending_handovers(view: ClusterView, settings: Settings, *, automatic_only: bool = True) -> list[Handover]:
    """Every live Service in an old namespace that a Service of a migrating namespace replaces."""
    found = []
    for namespace in view.namespaces():
        migration, _ = migration_of(namespace.name, view=view, settings=settings)
        if migration is None or not migration.consent:
            continue
        if automatic_only and namespace.labels.get(labels.HANDOVER) == "manual":
            continue
        for target in view.services(namespace.name):
            old = view.service(migration.old, target.name)
            if old is None or old.is_proxy or target.is_proxy or not target.selector:
                continue
            if automatic_only and labels.ROLLED_BACK in old.annotations:
                continue
            found.append(_judge(view, migration.old, target))
    return found


def plan_handover(view: ClusterView, settings: Settings, *, namespace: str, name: str) -> Handover:
    """The handover of ``namespace/name`` asked for by hand; ValueError says why there is none."""
    old = view.service(namespace, name)
    if old is None:
        raise ValueError(f"service {namespace}/{name} not found")
    if old.is_proxy:
        raise ValueError(
            f"service {namespace}/{name} is already nsmigrate's proxy for {old.annotations[labels.PROXY_FOR]}"
        )
    candidates = [
        handover
        for handover in pending_handovers(view, settings, automatic_only=False)
        if (handover.namespace, handover.name) == (namespace, name)
    ]
    if not candidates:
        raise ValueError(
            f"no namespace labelled {labels.MIGRATE_FROM}={namespace} (with {labels.SOURCE}=true on {namespace}) "
            f"has a Service named {name}"
        )
    return candidates[0]


def _judge(view: ClusterView, old_namespace: str, target: Service) -> Handover:
    selected = [
        workload
        for workload in view.workloads(target.namespace)
        if workload.kind in SERVING_KINDS and not workload.counted_through_owner and target.selects(workload.pod_labels)
    ]
    if not selected:
        reason = f"no workload in {target.namespace} is selected by service {target.namespace}/{target.name}"
        return Handover(old_namespace, target.name, target, ready=False, reason=reason)
    waiting = [w for w in selected if not w.available]
    if waiting:
        reason = "; ".join(f"{w.namespace}/{w.name} not Available: {w.readiness}" for w in waiting)
        return Handover(old_namespace, target.name, target, ready=False, reason=reason)
    names = ", ".join(f"{w.namespace}/{w.name}" for w in selected)
    return Handover(old_namespace, target.name, target, ready=True, reason=f"{names} Available")


def handover_manifest(live: JsonObject, *, target: Service, cluster_domain: str) -> JsonObject:
    """The old Service as the proxy (one UPDATE of ``live``), its spec kept for rollback."""
    proxy = copy.deepcopy(live)
    metadata = proxy["metadata"]
    metadata.setdefault("labels", {})[labels.MANAGED_BY] = labels.MANAGER
    annotations = metadata.setdefault("annotations", {})
    annotations[labels.ORIGINAL_SPEC] = json.dumps(live["spec"], sort_keys=True, separators=(",", ":"))
    annotations[labels.PROXY_FOR] = f"{target.namespace}/{target.name}"
    annotations.pop(labels.ROLLED_BACK, None)
    proxy["spec"] = {
        "type": "ExternalName",
        "externalName": full_name(target.name, target.namespace, cluster_domain),
        "ports": proxy_ports(target.ports),
        "sessionAffinity": "None",
    }
    return proxy


def rollback_manifest(proxy: JsonObject, *, now: datetime.datetime) -> JsonObject:
    """The Service as it was before its handover, marked so that the handover is not repeated."""
    annotations = proxy["metadata"].get("annotations") or {}
    if labels.ORIGINAL_SPEC not in annotations:
        raise ValueError(f"{_where(proxy)} has no {labels.ORIGINAL_SPEC}: it was not handed over by nsmigrate")
    restored = copy.deepcopy(proxy)
    metadata = restored["metadata"]
    restored["spec"] = json.loads(metadata["annotations"].pop(labels.ORIGINAL_SPEC))
    metadata["annotations"].pop(labels.PROXY_FOR, None)
    metadata["annotations"][labels.ROLLED_BACK] = now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    (metadata.get("labels") or {}).pop(labels.MANAGED_BY, None)
    return restored


def _where(obj: JsonObject) -> str:
    return f"{obj['metadata'].get('namespace')}/{obj['metadata'].get('name')}"
