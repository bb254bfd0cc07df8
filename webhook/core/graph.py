"""Who calls whom: the call graph of namespaces, built from the webhook's own caller rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from webhook.core.callers import old_names
from webhook.core.cluster import ClusterView
from webhook.core.hosts import is_short, lookup_names
from webhook.core.objects import Service, Workload
from webhook.core.settings import Settings


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
