"""Handover: the live Service left in the old namespace keeps serving, from the new side's pods.

Once the new side is Available, the old Service loses only its selector (its spec is kept in an
annotation for rollback): type, cluster IP, ports, node ports and load balancer stay, so no client
sees a change. Its endpoints are then mirrored from the new Service (``webhook.core.mirror``).
``finalize`` may later turn it into the ExternalName proxy, when that is safe; ``rollback`` restores it.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from webhook.core import labels, netgate
from webhook.core.cluster import ClusterView
from webhook.core.fields import JsonObject
from webhook.core.findings import Finding
from webhook.core.migration import migration_of
from webhook.core.mirror import map_ports
from webhook.core.objects import LabelIndex, Service, Workload
from webhook.core.owners import owner_of
from webhook.core.proxies import proxy_ports
from webhook.core.rewrite import full_name
from webhook.core.settings import Settings
from webhook.core.timestamps import rfc3339

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
    owner: str | None = None
    """Who else manages the old Service ("Helm release web"), if anyone."""
    owned_allowed: bool = False
    """The new namespace says ``nsmigrate.io/handover-owned: "true"``."""
    held: tuple[Finding, ...] = ()
    """What holds it back although the new side is Available (NetworkPolicies that would refuse callers)."""

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def automatic(self) -> bool:
        """Whether the reconciler may do it now (an owned Service only where the new namespace allows)."""
        return self.ready and (self.owner is None or self.owned_allowed)

    @property
    def owner_advice(self) -> str:
        """What to change in the owner, for warnings and ``status`` (empty when not owned)."""
        if self.owner is None:
            return ""
        return (
            f"{self.where} is managed by {self.owner}: after the handover, remove it from there or ignore its "
            f"selector there (or it is put back); label namespace {self.target.namespace} "
            f"{labels.HANDOVER_OWNED}=true or run nsmigrate handover {self.where}"
        )


def pending_handovers(view: ClusterView, settings: Settings, *, automatic_only: bool = True) -> list[Handover]:
    """Every live Service in an old namespace that a Service of a migrating namespace replaces."""
    found = []
    for namespace in view.namespaces():
        migration, _ = migration_of(namespace.name, view=view, settings=settings)
        if migration is None or not migration.consent:
            continue
        if automatic_only and namespace.labels.get(labels.HANDOVER) == "manual":
            continue
        index = LabelIndex(view.workloads(namespace.name))
        for target in view.services(namespace.name):
            old = view.service(migration.old, target.name)
            if old is None or target.is_proxy or not target.selector:
                continue
            if old.is_proxy and (automatic_only or not _taken_back(old)):
                continue  # a Service whose owner took it back is handed over again only by hand
            if automatic_only and labels.ROLLED_BACK in old.annotations:
                continue
            judged = _judge(view, old, target, index.selected_by(target), cluster_domain=settings.cluster_domain)
            owner = owner_of(old)
            allowed = namespace.labels.get(labels.HANDOVER_OWNED) == "true"
            found.append(dataclasses.replace(judged, owner=owner, owned_allowed=allowed))
    return found


def plan_handover(view: ClusterView, settings: Settings, *, namespace: str, name: str) -> Handover:
    """The handover of ``namespace/name`` asked for by hand; ValueError says why there is none."""
    old = view.service(namespace, name)
    if old is None:
        raise ValueError(f"service {namespace}/{name} not found")
    if old.is_proxy and not _taken_back(old):
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


def _judge(
    view: ClusterView, old: Service, target: Service, picked: Iterable[Workload], *, cluster_domain: str
) -> Handover:
    old_namespace = old.namespace
    _, problems = map_ports(old, target)
    if problems:
        return Handover(old_namespace, target.name, target, ready=False, reason="; ".join(problems))
    selected = [w for w in picked if w.kind in SERVING_KINDS and not w.counted_through_owner]
    if not selected:
        reason = f"no workload in {target.namespace} is selected by service {target.namespace}/{target.name}"
        return Handover(old_namespace, target.name, target, ready=False, reason=reason)
    waiting = [w for w in selected if not w.available]
    if waiting:
        reason = "; ".join(f"{w.namespace}/{w.name} not Available: {w.readiness}" for w in waiting)
        return Handover(old_namespace, target.name, target, ready=False, reason=reason)
    names = ", ".join(f"{w.namespace}/{w.name}" for w in selected)
    held = netgate.blocked_callers(view, old=old, target=target, serving=selected, cluster_domain=cluster_domain)
    if held:
        reason = "; ".join(finding.message for finding in held)
        return Handover(old_namespace, target.name, target, ready=False, reason=reason, held=tuple(held))
    return Handover(old_namespace, target.name, target, ready=True, reason=f"{names} Available")


def handover_manifest(live: JsonObject, *, target: Service) -> JsonObject:
    """The old Service handed over (one UPDATE of ``live``): every field kept but its selector, its
    spec recorded for rollback, marked as a proxy; its own ``managed-by`` stays for its owner."""
    handed = copy.deepcopy(live)
    metadata = handed["metadata"]
    metadata.setdefault("labels", {})[labels.PROXY] = "true"
    annotations = metadata.setdefault("annotations", {})
    annotations[labels.ORIGINAL_SPEC] = json.dumps(live["spec"], sort_keys=True, separators=(",", ":"))
    annotations[labels.PROXY_FOR] = f"{target.namespace}/{target.name}"
    annotations.pop(labels.ROLLED_BACK, None)
    handed["spec"].pop("selector", None)
    return handed


def finalize_problems(
    service: Service, target: Service | None, *, pod_names: bool, routed_by: Sequence[str] = ()
) -> list[str]:
    """Why ``service`` cannot become the ExternalName proxy of its target yet (empty: it can).

    ``pod_names``: its endpoints carry pod host names (``db-0.db``), which an ExternalName loses.
    ``routed_by``: the Ingresses and Gateway routes that send to it (many refuse ExternalName backends)."""
    where = f"{service.namespace}/{service.name}"
    if not service.handed_over:
        return [f"{where} is not a Service handed over by nsmigrate"]
    if not service.mirrored:
        return [f"{where} is already an ExternalName proxy"]
    problems = []
    if target is None:
        problems.append(f"its target {service.annotations.get(labels.PROXY_FOR)} does not exist")
    if service.type in ("LoadBalancer", "NodePort"):
        problems.append(f"it is a {service.type} Service: its node ports and load balancer would go")
    if service.cluster_ip == "None" or pod_names:
        problems.append("it serves pod names (headless): an ExternalName has none")
    if routed_by:
        problems.append(
            f"{', '.join(routed_by)} send(s) to it, and many controllers refuse ExternalName backends: point them at "
            f"{service.annotations.get(labels.PROXY_FOR)} first"
        )
    if target is not None:
        served = {(p.port, p.protocol) for p in target.ports}
        for port in service.ports:
            if (port.port, port.protocol) not in served:
                problems.append(
                    f"port {port.port}/{port.protocol} is not served by {target.namespace}/{target.name} "
                    f"(a CNAME keeps the port number)"
                )
    return problems


def finalize_manifest(live: JsonObject, *, target: Service, cluster_domain: str) -> JsonObject:
    """The handed-over Service as the ExternalName proxy of ``target``; its original spec is kept."""
    proxy = copy.deepcopy(live)
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
    metadata["annotations"][labels.ROLLED_BACK] = rfc3339(now)
    found = metadata.get("labels") or {}
    found.pop(labels.PROXY, None)
    if found.get(labels.MANAGED_BY) == labels.MANAGER:  # set by versions that converted in place
        found.pop(labels.MANAGED_BY)
    return restored


def _taken_back(service: Service) -> bool:
    """A handed-over Service whose owner put its selector back."""
    return service.handed_over and bool(service.selector)


def _where(obj: JsonObject) -> str:
    return f"{obj['metadata'].get('namespace')}/{obj['metadata'].get('name')}"
