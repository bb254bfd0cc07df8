"""Reconcile plans: the writes the cluster needs to keep the proxy invariants admission alone cannot.

- a Service created after its workload (or a caller that appears later) gets its proxy;
- proxy ports follow the target's ports (ExternalName proxies: a mirrored Service keeps its own);
- a proxy nsmigrate created whose target is gone and which has no callers is removed after a grace
  period (a handed-over Service is the user's: never removed);
- a live old Service whose new side is Available is handed over (owned ones only where allowed);
- proxies made by earlier versions get the ``nsmigrate.io/proxy`` label.

``plan_reconcile`` decides from the cache with the same functions admission uses (same desired state,
so the two never fight); the runtime's leader loop runs it and ``webhook.kube.workflows`` makes the writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from webhook.core import labels, proxies
from webhook.core.callers import callers_of
from webhook.core.cluster import ClusterView
from webhook.core.fields import JsonObject
from webhook.core.handover import pending_handovers
from webhook.core.migration import migration_of
from webhook.core.objects import LabelIndex, Service
from webhook.core.settings import Settings


@dataclass(frozen=True)
class Action:
    verb: Literal["create", "update", "delete", "handover"]
    namespace: str
    name: str
    reason: str
    body: JsonObject = field(default_factory=dict)
    """create: the manifest; update: a merge patch; delete: preconditions."""
    target: Service | None = None
    """handover: the Service the old one becomes the proxy for."""


@dataclass
class Orphans:
    """When each orphan proxy ("namespace/name") was first seen without target and without callers."""

    since: dict[str, float] = field(default_factory=dict)


def plan_reconcile(view: ClusterView, settings: Settings, *, now: float, orphans: Orphans) -> list[Action]:
    """Every write the cluster needs now; ``orphans`` is updated to what is orphaned at ``now``."""
    return (
        _missing_proxies(view, settings)
        + _handovers(view, settings)
        + _proxy_upkeep(view, settings, now=now, orphans=orphans)
    )


def _handovers(view: ClusterView, settings: Settings) -> list[Action]:
    """Live old Services whose new side is Available (automatic handover: not manual, not rolled back)."""
    return [
        Action("handover", handover.namespace, handover.name, handover.reason, target=handover.target)
        for handover in pending_handovers(view, settings)
        if handover.automatic
    ]


def _missing_proxies(view: ClusterView, settings: Settings) -> list[Action]:
    actions = []
    for namespace in view.namespaces():
        migration, _ = migration_of(namespace.name, view=view, settings=settings)
        if migration is None or not migration.consent:
            continue
        old = view.namespace(migration.old)
        if old is None or old.terminating:  # the API server would refuse the proxy on every pass
            continue
        index = LabelIndex(view.workloads(namespace.name))
        moved = [
            service for service in view.services(namespace.name) if not service.is_proxy and index.selected_by(service)
        ]
        for plan in proxies.plan_proxies(
            moved, old_namespace=migration.old, view=view, cluster_domain=settings.cluster_domain
        ):
            if plan.step == "create" and plan.manifest is not None:
                actions.append(Action("create", plan.namespace, plan.name, plan.reason, plan.manifest))
    return actions


def _proxy_upkeep(view: ClusterView, settings: Settings, *, now: float, orphans: Orphans) -> list[Action]:
    actions = []
    seen = set()
    for proxy in view.services():
        if not proxy.is_proxy or proxy.proxy_target is None:
            continue
        if proxy.labels.get(labels.PROXY) != "true":
            reason = f"proxies carry {labels.PROXY}=true (made by an earlier version)"
            patch = {"metadata": {"labels": {labels.PROXY: "true"}}}
            actions.append(Action("update", proxy.namespace, proxy.name, reason, patch))
        if proxy.mirrored:
            continue  # the user's Service, serving through its own IP: its ports and life are its own
        key = f"{proxy.namespace}/{proxy.name}"
        seen.add(key)
        target = view.service(*proxy.proxy_target)
        if target is not None:
            orphans.since.pop(key, None)
            if (ports := proxies.proxy_ports(target.ports)) != proxies.proxy_ports(proxy.ports):
                reason = f"ports follow {target.namespace}/{target.name}"
                actions.append(Action("update", proxy.namespace, proxy.name, reason, {"spec": {"ports": ports}}))
            continue
        if proxy.handed_over:
            continue  # finalized from a user's Service: a Warning Event and status say its target is gone
        if callers_of(proxy.name, proxy.namespace, view=view, cluster_domain=settings.cluster_domain):
            orphans.since.pop(key, None)
            continue
        first = orphans.since.setdefault(key, now)
        if now - first >= settings.orphan_grace_seconds:
            reason = f"target {labels.PROXY_FOR}={proxy.annotations[labels.PROXY_FOR]} is gone and nothing calls it"
            actions.append(Action("delete", proxy.namespace, proxy.name, reason, {"uid": proxy.uid}))
    for key in set(orphans.since) - seen:
        del orphans.since[key]
    return actions
