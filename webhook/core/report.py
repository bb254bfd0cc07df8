"""What operators ask of a migration: the state of every proxy, what a deploy would do, who calls
whom. Pure functions over a cluster view, built on the webhook's own decisions (no second set of rules).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from webhook.core import labels
from webhook.core.callers import Caller, callers_of, old_names
from webhook.core.cluster import ClusterView
from webhook.core.configmaps import plan_configmap_mutation
from webhook.core.handover import Handover, finalize_problems, pending_handovers
from webhook.core.hosts import is_short, lookup_names
from webhook.core.mirror import plan_mirror, serving
from webhook.core.mutation import plan_mutation
from webhook.core.mutation import rewrite_warning as _rewrite_warning
from webhook.core.objects import JsonObject, Service, Workload, workload_from_object
from webhook.core.owners import owner_of
from webhook.core.proxies import ProxyPlan
from webhook.core.proxies import describe as _describe
from webhook.core.rewrite import Rewrite
from webhook.core.settings import Settings

ProxyState = Literal["in use", "safe to delete", "orphan"]


@dataclass(frozen=True)
class ProxyStatus:
    proxy: str
    target: str
    target_exists: bool
    callers: list[Caller]
    kind: Literal["proxy", "mirrored", "finalized"] = "proxy"
    """Created by nsmigrate; a handed-over Service serving through its own IP; one turned ExternalName."""

    @property
    def safe_to_delete(self) -> bool:
        return not self.callers

    @property
    def state(self) -> ProxyState:
        if self.callers:
            return "in use"
        return "safe to delete" if self.target_exists else "orphan"

    def as_json(self) -> dict[str, Any]:
        return {
            "proxy": self.proxy,
            "target": self.target,
            "target_exists": self.target_exists,
            "kind": self.kind,
            "state": self.state,
            "safe_to_delete": self.safe_to_delete,
            "callers": [caller_json(caller) for caller in self.callers],
        }


def caller_json(caller: Caller) -> dict[str, Any]:
    return {
        "kind": caller.kind.lower(),
        "namespace": caller.namespace,
        "name": caller.name,
        "where": list(caller.places),
        "used_by": list(caller.used_by),
    }


def proxy_statuses(view: ClusterView, settings: Settings, *, namespace: str | None = None) -> list[ProxyStatus]:
    """Every proxy (of ``namespace``, or everywhere) with its target and its callers."""
    statuses = []
    for proxy in sorted(view.services(namespace), key=lambda s: (s.namespace, s.name)):
        if not proxy.is_proxy or proxy.proxy_target is None:
            continue
        target_namespace, target_name = proxy.proxy_target
        statuses.append(
            ProxyStatus(
                proxy=f"{proxy.namespace}/{proxy.name}",
                target=f"{target_namespace}/{target_name}",
                target_exists=view.service(target_namespace, target_name) is not None,
                callers=callers_of(proxy.name, proxy.namespace, view=view, cluster_domain=settings.cluster_domain),
                kind="mirrored" if proxy.mirrored else "finalized" if proxy.handed_over else "proxy",
            )
        )
    return statuses


@dataclass(frozen=True)
class MirrorStatus:
    """A handed-over Service that serves through its own IP: nsmigrate writes its endpoints."""

    service: str
    target: str
    type: str
    cluster_ip: str
    endpoints: int
    warnings: list[str]
    finalize: list[str]
    """Why ``nsmigrate finalize`` would refuse (empty: it would turn it into the ExternalName proxy)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "target": self.target,
            "state": "mirrored",
            "type": self.type,
            "clusterIP": self.cluster_ip,
            "ready_endpoints": self.endpoints,
            "warnings": self.warnings,
            "finalize": "ready" if not self.finalize else self.finalize,
            "depends_on_nsmigrate": True,
        }


def mirror_statuses(view: ClusterView, settings: Settings, *, namespace: str | None = None) -> list[MirrorStatus]:
    """Every handed-over Service that depends on nsmigrate to keep serving (uninstalling nsmigrate
    freezes their endpoints), with its warnings and what ``finalize`` would say."""
    notes: dict[tuple[str, str], list[str]] = {}
    for note in plan_mirror(view, settings).notes:
        notes.setdefault((note.namespace, note.name), []).append(note.message)
    found = []
    for service in sorted(view.services(namespace), key=lambda s: (s.namespace, s.name)):
        if not (service.mirrored or (service.handed_over and service.selector)):
            continue
        target = view.service(*service.proxy_target) if service.proxy_target else None
        warnings = list(notes.get((service.namespace, service.name), []))
        if (owner := owner_of(service)) and not service.selector:
            warnings.append(f"managed by {owner}: remove it from there, or ignore its selector there")
        ready = serving(view, service)
        found.append(
            MirrorStatus(
                service=f"{service.namespace}/{service.name}",
                target=service.annotations.get(labels.PROXY_FOR, ""),
                type=service.type,
                cluster_ip=service.cluster_ip,
                endpoints=len(ready),
                warnings=warnings,
                finalize=finalize_problems(service, target, pod_names=any(e.hostname for e in ready)),
            )
        )
    return found


def awaiting_handover(view: ClusterView, settings: Settings, *, namespace: str | None = None) -> list[Handover]:
    """Live old Services waiting for their handover (manual ones included), with the reason."""
    found = pending_handovers(view, settings, automatic_only=False)
    return [h for h in found if namespace in (None, h.namespace, h.target.namespace)]


def handover_json(handover: Handover) -> dict[str, Any]:
    """A live Service awaiting handover, in the shape of ``ProxyStatus.as_json``."""
    return {
        "proxy": handover.where,
        "target": f"{handover.target.namespace}/{handover.target.name}",
        "state": "awaiting handover",
        "ready": handover.ready,
        "reason": handover.reason,
        "owner": handover.owner,
        "owner_advice": handover.owner_advice,
        "safe_to_delete": False,
        "callers": [],
    }


@dataclass
class WorkloadPlan:
    workload: str
    rewrites: list[Rewrite] = field(default_factory=list)
    proxies: list[ProxyPlan] = field(default_factory=list)
    held_by: dict[str, list[Caller]] = field(default_factory=dict)
    """For each proxy to be made (or handed over): the callers that will keep it alive."""
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "rewrites": [rewrite.record() for rewrite in self.rewrites],
            "proxies": [
                {
                    "proxy": f"{plan.namespace}/{plan.name}",
                    "target": plan.target,
                    "action": {"create": "create", "handover": "handover"}.get(plan.step, plan.step),
                    "held_by": [
                        caller_json(caller) for caller in self.held_by.get(f"{plan.namespace}/{plan.name}", [])
                    ],
                }
                for plan in self.proxies
                if plan.step in ("create", "handover")
            ],
            "warnings": self.warnings,
        }


def plan_manifests(view: ClusterView, settings: Settings, workloads: Iterable[JsonObject]) -> list[WorkloadPlan]:
    """What admission would do with each workload (as a first deploy), on a view that already holds
    the manifests' other objects. Writes nothing."""
    plans = []
    for obj in workloads:
        metadata = obj.get("metadata") or {}
        namespace = str(metadata.get("namespace", ""))
        decided = plan_mutation(obj, view, settings, namespace=namespace, operation="CREATE", dry_run=True)
        restated = {_describe(p, dry_run=True) for p in decided.proxies} | {
            _rewrite_warning(r) for r in decided.rewrites
        }
        plan = WorkloadPlan(
            workload=f"{str(obj.get('kind')).lower()} {metadata.get('namespace')}/{metadata.get('name')}",
            rewrites=decided.rewrites,
            proxies=[p for p in decided.proxies if p.step in ("create", "handover")],
            warnings=[w for w in decided.warnings if w not in restated],
        )
        for proxy in plan.proxies:
            plan.held_by[f"{proxy.namespace}/{proxy.name}"] = callers_of(
                proxy.name, proxy.namespace, view=view, cluster_domain=settings.cluster_domain
            )
        plans.append(plan)
    return plans


@dataclass(frozen=True)
class Edge:
    caller: str
    service: str
    dashed: bool = False
    """proxy -> its target"""


@dataclass(frozen=True)
class Graph:
    namespaces: dict[str, list[tuple[str, str]]]
    """namespace -> (node id, label) of its workloads and Services"""
    proxies: frozenset[str]
    edges: list[Edge]
    mirrored: frozenset[str] = frozenset()
    """The proxies that are handed-over Services serving through their own IP (drawn as such)."""

    def kind(self, identity: str) -> str:
        """How a node's label ends: " (mirrored)", " (proxy)" or nothing."""
        if identity in self.mirrored:
            return " (mirrored)"
        return " (proxy)" if identity in self.proxies else ""


def call_graph(view: ClusterView, settings: Settings, *, namespaces: Iterable[str]) -> Graph:
    """Who calls whom: workloads to the Services their env refers to, proxies to their targets."""
    shown = sorted(set(namespaces))
    nodes: dict[str, list[tuple[str, str]]] = {namespace: [] for namespace in shown}
    proxies: set[str] = set()
    mirrored: set[str] = set()
    edges: set[Edge] = set()

    def node(namespace: str, label: str) -> str:
        identity = f"{namespace}/{label}"
        nodes.setdefault(namespace, [])
        if (identity, label) not in nodes[namespace]:
            nodes[namespace].append((identity, label))
        return identity

    for namespace in shown:
        for workload in _served(view.workloads(namespace)):
            caller = node(namespace, f"{workload.kind.lower()} {workload.name}")
            for _, hosts in workload.env_hosts:
                for host in hosts:
                    if (service := _resolve(view, host, namespace, settings)) is not None:
                        edges.add(Edge(caller, node(service.namespace, f"service {service.name}")))
        for service in view.services(namespace):
            if service.is_proxy and service.proxy_target:
                here = node(namespace, f"service {service.name}")
                proxies.add(here)
                if service.mirrored:
                    mirrored.add(here)
                target_namespace, target_name = service.proxy_target
                edges.add(Edge(here, node(target_namespace, f"service {target_name}"), dashed=True))
    edges_in_order = sorted(edges, key=lambda e: (e.caller, e.service))
    return Graph(nodes, frozenset(proxies), edges_in_order, frozenset(mirrored))


def _served(workloads: Iterable[Workload]) -> list[Workload]:
    return sorted((w for w in workloads if not w.counted_through_owner), key=lambda w: (w.kind, w.name))


def _resolve(view: ClusterView, host: str, namespace: str, settings: Settings) -> Service | None:
    """The Service a host found in ``namespace`` reaches (itself, or the one a pod name sits under), if
    it is one of the cluster's."""
    for name in lookup_names(host):
        if is_short(name):
            found = view.service(namespace, name)
        else:
            parts = name.split(".")
            in_cluster = len(parts) >= 2 and name in old_names(parts[0], parts[1], settings.cluster_domain)
            found = view.service(parts[1], parts[0]) if in_cluster else None
        if found is not None:
            return found
    return None


def mermaid(graph: Graph) -> str:
    """Mermaid flowchart (renders on code-hosting pages)."""
    ids = {identity: f"n{index}" for index, identity in enumerate(_identities(graph))}
    lines = ["flowchart LR"]
    for namespace, members in graph.namespaces.items():
        lines.append(f'  subgraph {_safe(namespace)}["namespace {namespace}"]')
        for identity, label in members:
            shape = f'{{{{"{label}{graph.kind(identity)}"}}}}' if identity in graph.proxies else f'["{label}"]'
            lines.append(f"    {ids[identity]}{shape}")
        lines.append("  end")
    for edge in graph.edges:
        arrow = "-.->|proxy for|" if edge.dashed else "-->"
        lines.append(f"  {ids[edge.caller]} {arrow} {ids[edge.service]}")
    return "\n".join(lines) + "\n"


def dot(graph: Graph) -> str:
    """Graphviz dot."""
    ids = {identity: f"n{index}" for index, identity in enumerate(_identities(graph))}
    lines = ["digraph nsmigrate {", "  rankdir=LR;", '  node [fontname="Helvetica", shape=box];']
    for index, (namespace, members) in enumerate(graph.namespaces.items()):
        lines.append(f'  subgraph cluster_{index} {{ label="namespace {namespace}";')
        for identity, label in members:
            style = ', style="dashed,rounded", color=gray40' if identity in graph.proxies else ""
            suffix = graph.kind(identity)
            lines.append(f'    {ids[identity]} [label="{label}{suffix}"{style}];')
        lines.append("  }")
    for edge in graph.edges:
        style = ' [style=dashed, label="proxy for"]' if edge.dashed else ""
        lines.append(f"  {ids[edge.caller]} -> {ids[edge.service]}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _identities(graph: Graph) -> list[str]:
    return [identity for members in graph.namespaces.values() for identity, _ in members]


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def audit_from_events(events: Iterable[JsonObject]) -> list[dict[str, Any]]:
    """Denied and forced proxy deletions recorded as Events (newest first)."""
    entries = []
    for event in events:
        reason = event.get("reason")
        if reason not in ("ProxyDeletionDenied", "ProxyDeletionForced"):
            continue
        involved = event.get("involvedObject") or {}
        entries.append(
            {
                "time": event.get("lastTimestamp") or event.get("eventTime") or "",
                "event": "proxy_deletion_denied" if reason == "ProxyDeletionDenied" else "proxy_deletion_forced",
                "proxy": f"{involved.get('namespace')}/{involved.get('name')}",
                "count": event.get("count", 1),
                "message": event.get("message", ""),
                "source": "event",
            }
        )
    return sorted(entries, key=lambda entry: entry["time"], reverse=True)


def audit_from_log(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Denied and forced proxy deletions from the webhook's JSON log lines (newest first)."""
    entries = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") in ("proxy_deletion_denied", "proxy_deletion_forced"):
            entries.append({**record, "source": "log"})
    return sorted(entries, key=lambda entry: str(entry.get("time", "")), reverse=True)


def workloads_of(manifests: Iterable[JsonObject]) -> list[JsonObject]:
    return [manifest for manifest in manifests if workload_from_object(manifest) is not None]


def configmaps_of(manifests: Iterable[JsonObject]) -> list[JsonObject]:
    return [manifest for manifest in manifests if manifest.get("kind") == "ConfigMap"]


def plan_configmap_manifests(
    view: ClusterView, settings: Settings, configmaps: Iterable[JsonObject]
) -> list[WorkloadPlan]:
    """What admission would do with each ConfigMap (rewrites in a namespace that asks for them)."""
    plans = []
    for obj in configmaps:
        metadata = obj.get("metadata") or {}
        namespace = str(metadata.get("namespace", ""))
        decided = plan_configmap_mutation(obj, view, settings, namespace=namespace, operation="CREATE")
        restated = {_rewrite_warning(r) for r in decided.rewrites}
        plans.append(
            WorkloadPlan(
                workload=f"configmap {namespace}/{metadata.get('name')}",
                rewrites=decided.rewrites,
                warnings=[w for w in decided.warnings if w not in restated],
            )
        )
    return plans


def table(header: list[str], rows: list[list[str]]) -> str:
    """Columns as kubectl prints them."""
    if not rows:
        return "No resources found."
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = (
        "   ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *rows]
    )
    return "\n".join(line.rstrip() for line in lines)


def status_text(proxies: list[ProxyStatus], waiting: list[Handover], mirrored: Sequence[MirrorStatus] = ()) -> str:
    """``nsmigrate status`` as a person reads it: the proxies, the Services that depend on nsmigrate to
    keep serving, then what awaits its handover."""
    text = table(
        ["PROXY", "TARGET", "STATE", "SAFE TO DELETE", "CALLERS"],
        [
            [
                p.proxy,
                p.target + ("" if p.target_exists else " (gone)"),
                p.state + ("" if p.kind == "proxy" else f" ({p.kind})"),
                "yes" if p.safe_to_delete else "no",
                "; ".join(c.describe() for c in p.callers) or "-",
            ]
            for p in proxies
        ],
    )
    if mirrored:
        rows = [
            [
                m.service,
                f"{m.type} {m.cluster_ip}",
                str(m.endpoints),
                "yes" if not m.finalize else "no: " + "; ".join(m.finalize),
                "; ".join(m.warnings) or "-",
            ]
            for m in mirrored
        ]
        text += "\n\n" + table(["MIRRORED (SERVED BY NSMIGRATE)", "TYPE/IP", "ENDPOINTS", "FINALIZE", "WARNINGS"], rows)
        text += "\n(these keep serving only while nsmigrate runs: uninstalling it freezes their endpoints)"
    if waiting:
        rows = [
            [
                h.where,
                f"{h.target.namespace}/{h.target.name}",
                "yes" if h.automatic else "by hand" if h.ready else "no",
                "; ".join(filter(None, [h.reason, h.owner_advice])),
            ]
            for h in waiting
        ]
        text += "\n\n" + table(["AWAITING HANDOVER", "NEW SERVICE", "READY", "REASON"], rows)
    return text
