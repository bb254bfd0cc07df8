"""Readiness: what else a move breaks, named before traffic moves, from the API server only.

Findings of a migrating namespace's workloads (``MissingDependency``, ``PodsRejected``), of the
handovers the NetworkPolicy gate holds (``NetworkPolicyBlocksCallers``), and the one write readiness
makes: the ``nsmigrate-callers`` NetworkPolicy of a namespace labelled ``nsmigrate.io/allow-callers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from webhook.core import labels, netgate
from webhook.core.cluster import ClusterView
from webhook.core.fields import JsonObject, dig
from webhook.core.findings import Finding
from webhook.core.handover import pending_handovers
from webhook.core.migration import migration_of
from webhook.core.netpol import policy_from_object
from webhook.core.objects import Workload
from webhook.core.podspec import pod_template
from webhook.core.proxies import ProxyPlan
from webhook.core.settings import Settings


class Inventory(Protocol):
    def exists(self, kind: str, namespace: str, name: str) -> bool | None: ...


def workload_findings(view: Inventory, workload: Workload) -> tuple[list[Finding], list[str]]:
    """What stops the pods of ``workload`` in its namespace: objects it names that are missing there
    (optional ones only warned about), and a pod creation its controller reports refused."""
    findings, warnings = [], []
    missing = [need for need in workload.needs if view.exists(need.kind, workload.namespace, need.name) is False]
    for need in missing:
        text = f"{need.kind} {need.name} ({need.where}) does not exist in namespace {workload.namespace}"
        if need.optional:
            warnings.append(f"{workload.describe()}: optional {text}")
        else:
            message = f"{text}: its pods cannot start until it is created there"
            findings.append(Finding("MissingDependency", workload.kind, workload.namespace, workload.name, message))
    if workload.failure:
        findings.append(rejected(workload, workload.failure))
    return findings, warnings


def admission_findings(
    view: ClusterView, settings: Settings, workload: Workload, proxies: Sequence[ProxyPlan]
) -> tuple[list[Finding], list[str]]:
    """What admission says of a workload entering a migrating namespace, from the cache alone: its
    missing dependencies, and for each live Service it will take over, the callers its namespace's
    NetworkPolicies would refuse. Returns the findings and the optional-dependency warnings."""
    findings, optional = workload_findings(view, workload)
    for plan in proxies:
        old, target = view.service(plan.namespace, plan.name), view.service(workload.namespace, plan.name)
        if plan.step != "handover" or old is None or target is None:
            continue
        findings += netgate.blocked_callers(
            view, old=old, target=target, serving=[workload], cluster_domain=settings.cluster_domain
        )
    return findings, optional


def handover_findings(view: ClusterView, settings: Settings) -> list[Finding]:
    """The findings that hold handovers back now."""
    return [
        finding for handover in pending_handovers(view, settings, automatic_only=False) for finding in handover.held
    ]


def namespace_findings(view: ClusterView, settings: Settings, namespace: str) -> list[Finding]:
    """Everything readiness says of a migrating namespace: its workloads, and policies elsewhere that admit
    its old namespace by name."""
    migration, _ = migration_of(namespace, view=view, settings=settings)
    if migration is None:
        return []
    findings = []
    for workload in view.workloads(namespace):
        if not workload.counted_through_owner:
            findings += workload_findings(view, workload)[0]
    return findings + netgate.policies_naming(view, migration.old)


def all_findings(view: ClusterView, settings: Settings) -> list[Finding]:
    found = handover_findings(view, settings)
    for namespace in view.namespaces():
        found += namespace_findings(view, settings, namespace.name)
    return list(dict.fromkeys(found))


PolicyVerb = Literal["apply", "delete"]


@dataclass(frozen=True)
class PolicyAction:
    verb: PolicyVerb
    namespace: str
    name: str
    reason: str
    body: JsonObject = field(default_factory=dict)


@dataclass
class ReadinessPlan:
    actions: list[PolicyAction] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def plan_readiness(view: ClusterView, settings: Settings) -> ReadinessPlan:
    """The findings of every migrating namespace, and the ``nsmigrate-callers`` policies to write."""
    return ReadinessPlan(actions=_callers_policies(view, settings), findings=all_findings(view, settings))


def _callers_policies(view: ClusterView, settings: Settings) -> list[PolicyAction]:
    existing = {(p.namespace, p.name): p for p in view.network_policies() if p.name == netgate.ALLOW_CALLERS_POLICY}
    actions = []
    for namespace in view.namespaces():
        key = (namespace.name, netgate.ALLOW_CALLERS_POLICY)
        desired = None
        if namespace.labels.get(labels.ALLOW_CALLERS) == "true":
            desired = netgate.desired_callers_policy(view, settings, namespace.name)
        if desired is not None:
            if existing.get(key) != policy_from_object(desired):
                reason = f"{labels.ALLOW_CALLERS}=true: admits the known callers"
                actions.append(PolicyAction("apply", namespace.name, netgate.ALLOW_CALLERS_POLICY, reason, desired))
        elif key in existing:
            reason = (
                "no proxy of this namespace is left"
                if namespace.labels.get(labels.ALLOW_CALLERS)
                else (f"{labels.ALLOW_CALLERS} is no longer set")
            )
            actions.append(PolicyAction("delete", namespace.name, netgate.ALLOW_CALLERS_POLICY, reason))
    return actions


def pod_from_template(obj: JsonObject) -> JsonObject | None:
    """A Pod as the workload's controller would create it (for a server-side dry run in its namespace)."""
    template = pod_template(obj)
    if template is None or obj.get("kind") == "Pod":
        return template
    metadata = dig(template, "metadata")
    name = str(dig(obj, "metadata").get("name", "pod"))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": f"{name[:50]}-nsmigrate-plan-",
            "namespace": dig(obj, "metadata").get("namespace"),
            "labels": metadata.get("labels") or {},
            "annotations": metadata.get("annotations") or {},
        },
        "spec": dig(template, "spec"),
    }


def rejected(workload: Workload, refusal: str) -> Finding:
    """``PodsRejected`` from what the API server answered a dry-run Pod of ``workload``."""
    message = f"namespace {workload.namespace} refuses its pods: {refusal}"
    return Finding("PodsRejected", workload.kind, workload.namespace, workload.name, message)
