"""The NetworkPolicy gate of a handover: after it, the old Service's known callers reach pods in the new
namespace, whose NetworkPolicies then decide. While one would be refused, the handover waits
(``NetworkPolicyBlocksCallers``); ``nsmigrate.io/allow-callers`` has nsmigrate keep a policy that admits
exactly the known callers' namespaces."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from webhook.core import labels, netpol
from webhook.core.callers import Caller, candidate_names, find_callers
from webhook.core.cluster import ClusterView
from webhook.core.findings import Finding
from webhook.core.migration import migration_of
from webhook.core.mirror import map_ports
from webhook.core.objects import Namespace, Service, Workload
from webhook.core.settings import Settings


@dataclass(frozen=True, slots=True)
class CallerPod:
    """A known caller as policies see it: its pods' labels in its namespace."""

    caller: Caller
    pod: netpol.Pod
    host_network: bool = False


def known_callers(view: ClusterView, service: str, namespace: str, *, cluster_domain: str) -> list[CallerPod]:
    """The workloads that call ``namespace/service`` (directly, or through a ConfigMap they consume), each
    with the pod its template makes. Callers known from a ConfigMap count through its consumers."""
    workloads, configmaps = view.referring(candidate_names(service, namespace, cluster_domain))
    callers = find_callers(
        service=service, namespace=namespace, workloads=workloads, configmaps=configmaps, cluster_domain=cluster_domain
    )
    by_description = {workload.describe(): workload for workload in workloads}
    found: dict[str, CallerPod] = {}
    for caller in callers:
        described = caller.used_by or (f"{caller.kind.lower()} {caller.namespace}/{caller.name}",)
        for description in described:
            workload = by_description.get(description)
            if workload is not None and description not in found:
                pod = pod_of(workload, view.namespace(workload.namespace))
                found[description] = CallerPod(caller, pod, workload.host_network)
    return list(found.values())


def pod_of(workload: Workload, namespace: Namespace | None) -> netpol.Pod:
    namespace_labels = {labels.NAMESPACE_NAME: workload.namespace, **(namespace.labels if namespace else {})}
    return netpol.Pod(
        namespace=workload.namespace,
        namespace_labels=namespace_labels,
        labels=dict(workload.pod_labels),
        named_ports=dict(workload.named_ports),
    )


def blocked_callers(
    view: ClusterView,
    *,
    old: Service,
    target: Service,
    serving: Sequence[Workload],
    cluster_domain: str,
) -> list[Finding]:
    """For a handover of ``old`` to ``target`` (served by ``serving``): each known caller that the
    NetworkPolicies would refuse on a port of the old Service once its traffic reaches the new pods.
    Callers are looked for only where some policy could refuse them."""
    policies = view.network_policies()
    if not policies:
        return []
    callers = known_callers(view, old.name, old.namespace, cluster_domain=cluster_domain)
    mapping, _ = map_ports(old, target)
    target_ports = {p.name or "": p for p in target.ports}
    findings = []
    for workload in serving:
        destination = pod_of(workload, view.namespace(workload.namespace))
        for entry in callers:
            if entry.host_network:
                continue  # policies do not select host-network pods: what admits them is the node's address
            for mapped in mapping:
                new_port = target_ports.get(mapped.new_name)
                if new_port is None:
                    continue
                port = new_port.target_port if new_port.target_port is not None else new_port.port
                verdict = netpol.evaluate(
                    policies, source=entry.pod, destination=destination, port=port, protocol=mapped.old.protocol
                )
                if not verdict.allowed:
                    findings.append(
                        _blocked(old, entry.caller, workload, port=f"{port}/{mapped.old.protocol}", verdict=verdict)
                    )
                    break
    return _unique(findings)


def _blocked(old: Service, caller: Caller, workload: Workload, *, port: str, verdict: netpol.Verdict) -> Finding:
    side = "its" if verdict.direction == "Ingress" else "the caller's"
    message = (
        f"{caller.kind.lower()} {caller.namespace}/{caller.name} calls {old.namespace}/{old.name}; after the handover "
        f"{workload.namespace}/{workload.name} serves it and NetworkPolicy {', '.join(verdict.blocked_by)} "
        f"({side} {verdict.direction}) refuses port {port}: the handover waits"
    )
    caller_name = f"{caller.kind.lower()} {caller.namespace}/{caller.name}"
    cause = ", ".join(f"networkpolicy {name}" for name in verdict.blocked_by)
    return Finding(
        "NetworkPolicyBlocksCallers",
        "Service",
        old.namespace,
        old.name,
        message,
        holds=True,
        caller=caller_name,
        cause=cause,
    )


def policies_naming(view: ClusterView, namespace: str) -> list[Finding]:
    """Policies elsewhere that admit ``namespace`` by its name label: they stop matching the moved pods."""
    findings = []
    for policy in view.network_policies():
        if policy.namespace == namespace or policy.name == ALLOW_CALLERS_POLICY:
            continue  # its own namespace's, or nsmigrate's own admission of the known callers
        if not any(_names(peer, namespace) for peer in _peers(policy)):
            continue
        message = (
            f"NetworkPolicy {policy.key} admits namespace {namespace} by name: pods moved out of {namespace} "
            f"no longer match it"
        )
        findings.append(Finding("NetworkPolicyBlocksCallers", "NetworkPolicy", policy.namespace, policy.name, message))
    return findings


def _peers(policy: netpol.Policy) -> Iterable[netpol.Peer]:
    return (peer for rule in (*policy.ingress, *policy.egress) for peer in rule.peers or ())


def _names(peer: netpol.Peer, namespace: str) -> bool:
    """Whether a peer's namespaceSelector picks ``namespace`` by its name label."""
    chosen = peer.namespaces
    if chosen is None:
        return False
    if (labels.NAMESPACE_NAME, namespace) in chosen.match_labels:
        return True
    return any(
        e.key == labels.NAMESPACE_NAME and e.operator == "In" and namespace in e.values for e in chosen.expressions
    )


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


ALLOW_CALLERS_POLICY = "nsmigrate-callers"


def callers_policy(
    namespace: str, *, caller_namespaces: Iterable[str], ports: Iterable[tuple[int | str, str]]
) -> dict[str, Any]:
    """The NetworkPolicy ``nsmigrate-callers`` of a namespace labelled ``nsmigrate.io/allow-callers``:
    ingress from exactly the known callers' namespaces, on the moved Services' pod ports."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": ALLOW_CALLERS_POLICY,
            "namespace": namespace,
            "labels": {labels.MANAGED_BY: labels.MANAGER},
        },
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchExpressions": [
                                    {
                                        "key": labels.NAMESPACE_NAME,
                                        "operator": "In",
                                        "values": sorted(set(caller_namespaces)),
                                    }
                                ]
                            }
                        }
                    ],
                    "ports": [{"port": port, "protocol": protocol} for port, protocol in sorted(set(ports), key=str)],
                }
            ],
        },
    }


def desired_callers_policy(view: ClusterView, settings: Settings, namespace: str) -> dict[str, Any] | None:
    """The ``nsmigrate-callers`` policy ``namespace`` needs now: while an old-namespace Service of one of its
    Services' names is live or a proxy to it, the known callers of those names get in; None once none is."""
    migration, _ = migration_of(namespace, view=view, settings=settings)
    if migration is None or not migration.consent:
        return None
    caller_namespaces: set[str] = set()
    ports: set[tuple[int | str, str]] = set()
    for target in view.services(namespace):
        old = view.service(migration.old, target.name)
        if old is None or target.is_proxy or not target.selector:
            continue
        if old.is_proxy and old.proxy_target != (target.namespace, target.name):
            continue
        callers = known_callers(view, old.name, old.namespace, cluster_domain=settings.cluster_domain)
        caller_namespaces.update(entry.pod.namespace for entry in callers if not entry.host_network)
        ports.update((p.target_port if p.target_port is not None else p.port, p.protocol) for p in target.ports)
    if not caller_namespaces or not ports:
        return None
    return callers_policy(namespace, caller_namespaces=caller_namespaces, ports=ports)
