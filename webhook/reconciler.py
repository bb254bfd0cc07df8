"""The reconciler: keeps the proxy invariants that admission alone cannot.

- a Service created after its workload (or a caller that appears later) gets its proxy;
- proxy ports follow the target's ports;
- a proxy whose target is gone and which has no callers is removed after a grace period.

``plan_reconcile`` decides from the cache with the same functions admission uses (same desired state,
so the two never fight); ``Reconciler`` runs it on watch events and on a periodic resync, when it
holds the lease, and makes idempotent writes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from webhook import labels, logs, proxies
from webhook.callers import callers_of
from webhook.cluster import ClusterView
from webhook.handover import pending_handovers
from webhook.migration import migration_of
from webhook.objects import JsonObject, Service
from webhook.settings import Settings


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
        if handover.ready
    ]


def _missing_proxies(view: ClusterView, settings: Settings) -> list[Action]:
    actions = []
    for namespace in view.namespaces():
        migration, _ = migration_of(namespace.name, view=view, settings=settings)
        if migration is None or not migration.consent:
            continue
        pod_labels = [workload.pod_labels for workload in view.workloads(namespace.name)]
        moved = [
            service
            for service in view.services(namespace.name)
            if not service.is_proxy and any(service.selects(found) for found in pod_labels)
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
        key = f"{proxy.namespace}/{proxy.name}"
        seen.add(key)
        target = view.service(*proxy.proxy_target)
        if target is not None:
            orphans.since.pop(key, None)
            if (ports := proxies.proxy_ports(target.ports)) != proxies.proxy_ports(proxy.ports):
                reason = f"ports follow {target.namespace}/{target.name}"
                actions.append(Action("update", proxy.namespace, proxy.name, reason, {"spec": {"ports": ports}}))
            continue
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


class ServiceWriter(Protocol):
    def create_service(self, manifest: JsonObject, *, timeout: float) -> None: ...

    def hand_over(self, namespace: str, name: str, *, target: Service, cluster_domain: str) -> JsonObject: ...

    def patch_service(self, namespace: str, name: str, patch: JsonObject) -> None: ...

    def delete_service(self, namespace: str, name: str, *, uid: str) -> None: ...


Writer = Callable[[Action], None]


def writer(services: ServiceWriter, *, timeout: float, cluster_domain: str) -> Writer:
    """Carry out actions through ``services``; each write is idempotent (exists / gone are fine)."""

    def write(action: Action) -> None:
        if action.verb == "create":
            services.create_service(action.body, timeout=timeout)
        elif action.verb == "handover" and action.target is not None:
            services.hand_over(action.namespace, action.name, target=action.target, cluster_domain=cluster_domain)
        elif action.verb == "update":
            services.patch_service(action.namespace, action.name, action.body)
        else:
            services.delete_service(action.namespace, action.name, uid=str(action.body.get("uid", "")))

    return write


class Reconciler:
    """Runs ``plan_reconcile`` on every change the cache reports and every ``resync_seconds``,
    only while ``is_leader()`` says so, writing through ``write``."""

    def __init__(
        self,
        view: ClusterView,
        settings: Settings,
        *,
        write: Writer,
        is_leader: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.view = view
        self.settings = settings
        self.write = write
        self.is_leader = is_leader
        self.clock = clock
        self.orphans = Orphans()
        self.wake = threading.Event()

    def nudge(self, _kind: str = "") -> None:
        """Something changed: reconcile soon (changes arriving together share one pass)."""
        self.wake.set()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.wake.wait(timeout=min(self.settings.resync_seconds, self.settings.orphan_grace_seconds / 2 or 1))
            self.wake.clear()
            if stop.is_set():
                return
            try:
                self.reconcile()
            except Exception:  # a failed pass is retried on the next change or resync
                logging.getLogger(logs.LOGGER).exception("reconcile pass failed")
            # Changes arriving meanwhile share the next pass: a busy cluster gets at most one pass per
            # interval, and admission threads keep the CPU they need.
            stop.wait(self.settings.reconcile_interval_seconds)

    def reconcile(self) -> list[Action]:
        """One pass, if leader and synced: the actions taken."""
        if not self.is_leader():
            return []
        actions = plan_reconcile(self.view, self.settings, now=self.clock(), orphans=self.orphans)
        for action in actions:
            try:
                self.write(action)
                logs.event(
                    "proxy_reconciled",
                    verb=action.verb,
                    proxy=f"{action.namespace}/{action.name}",
                    reason=action.reason,
                )
            except Exception as error:
                logs.event(
                    "proxy_reconcile_failed",
                    level=logging.WARNING,
                    verb=action.verb,
                    proxy=f"{action.namespace}/{action.name}",
                    error=str(error)[:200],
                )
        return actions
