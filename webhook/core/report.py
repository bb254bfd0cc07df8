"""What operators ask of a migration: the state of every proxy, what a deploy would do, who calls
whom. Pure functions over a cluster view, built on the webhook's own decisions (no second set of rules).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from webhook.core import labels
from webhook.core.callers import Caller, callers_of
from webhook.core.cluster import ClusterView
from webhook.core.configmaps import plan_configmap_mutation
from webhook.core.fields import JsonObject
from webhook.core.findings import Finding
from webhook.core.handover import Handover, finalize_problems, pending_handovers
from webhook.core.mirror import plan_mirror, serving
from webhook.core.mutation import plan_mutation
from webhook.core.mutation import rewrite_warning as _rewrite_warning
from webhook.core.objects import workload_from_object
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
    findings: list[Finding] = field(default_factory=list)
    """What else the move breaks for it (readiness)."""

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
            "findings": [finding.as_json() for finding in self.findings],
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
            warnings=[w for w in decided.warnings if w not in restated | {f.warning() for f in decided.findings}],
            findings=decided.findings,
        )
        for proxy in plan.proxies:
            plan.held_by[f"{proxy.namespace}/{proxy.name}"] = callers_of(
                proxy.name, proxy.namespace, view=view, cluster_domain=settings.cluster_domain
            )
        plans.append(plan)
    return plans


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
