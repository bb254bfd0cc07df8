"""Caller finding: which workloads and ConfigMaps still call a Service by a given name.

A caller of ``servicea`` in ``foobar`` refers to it
- from ``foobar`` itself, by the short name (``servicea``, ``servicea:80``, ``http://servicea/``) or by a
  pod name under it (``servicea-0.servicea``);
- from any namespace, by ``servicea.foobar``, ``servicea.foobar.svc`` or the full name (pod names too).
in an env value, an args or command entry, or the data of a ConfigMap a workload consumes.
Used to decide whether an old namespace needs a proxy, and whether a proxy may be deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from webhook.core.cluster import ClusterView
from webhook.core.hosts import is_short, lookup_names
from webhook.core.objects import ConfigMap, Workload
from webhook.core.podspec import WORKLOAD_KINDS

CALLER_KINDS = (*WORKLOAD_KINDS, "ConfigMap")
"""The kinds a caller can be."""


@dataclass(frozen=True)
class Caller:
    """A workload or ConfigMap that refers to the Service, and where."""

    kind: str
    namespace: str
    name: str
    places: tuple[str, ...]
    used_by: tuple[str, ...] = ()

    def describe(self) -> str:
        """``deployment foobar/appc (env SERVICEA_URL)``, or for a ConfigMap, who consumes it."""
        text = f"{self.kind.lower()} {self.namespace}/{self.name} ({', '.join(self.places)})"
        return f"{text} used by {', '.join(self.used_by)}" if self.used_by else text


def old_names(service: str, namespace: str, cluster_domain: str) -> frozenset[str]:
    """The names that reach ``namespace/service`` from any namespace."""
    partial = f"{service}.{namespace}"
    return frozenset({partial, f"{partial}.svc", f"{partial}.svc.{cluster_domain}"})


def candidate_names(service: str, namespace: str, cluster_domain: str) -> frozenset[str]:
    """Every host name that may refer to ``namespace/service`` from somewhere: the keys to look up."""
    return frozenset({service}) | old_names(service, namespace, cluster_domain)


def refers_to(host: str, *, service: str, namespace: str, from_namespace: str, cluster_domain: str) -> bool:
    """Whether a host found in ``from_namespace`` resolves to ``namespace/service`` (itself, or a pod under it)."""
    for name in lookup_names(host):
        if is_short(name) and from_namespace == namespace and name == service:
            return True
        if not is_short(name) and name in old_names(service, namespace, cluster_domain):
            return True
    return False


def referring(
    names: frozenset[str], workloads: Iterable[Workload], configmaps: Iterable[ConfigMap]
) -> tuple[list[Workload], list[ConfigMap]]:
    """The workloads and ConfigMaps whose hosts include any of ``names``, plus the workloads that
    consume those ConfigMaps: all ``find_callers`` needs, for a view without an index."""
    workloads = list(workloads)
    found_configmaps = [configmap for configmap in configmaps if configmap.hosts & names]
    consumed = {(configmap.namespace, configmap.name) for configmap in found_configmaps}
    found_workloads = [
        workload
        for workload in workloads
        if workload.hosts & names or any((workload.namespace, name) in consumed for name in workload.configmaps)
    ]
    return found_workloads, found_configmaps


def find_callers(
    *,
    service: str,
    namespace: str,
    workloads: Iterable[Workload],
    configmaps: Iterable[ConfigMap],
    cluster_domain: str,
) -> list[Caller]:
    """Every caller of ``namespace/service``: workloads first, then ConfigMaps, each sorted."""

    def calls(hosts: Iterable[str], from_namespace: str) -> bool:
        return any(
            refers_to(
                host, service=service, namespace=namespace, from_namespace=from_namespace, cluster_domain=cluster_domain
            )
            for host in hosts
        )

    counted = [w for w in workloads if not w.counted_through_owner]
    callers: list[Caller] = []
    for workload in counted:
        envs = sorted({variable for variable, hosts in workload.env_hosts if calls(hosts, workload.namespace)})
        if envs:
            callers.append(Caller(workload.kind, workload.namespace, workload.name, tuple(map(_place, envs))))

    readers = _readers_by_configmap(counted)
    for configmap in configmaps:
        consumers = readers.get((configmap.namespace, configmap.name), [])
        referring_keys = {
            key for key, hosts in configmap.key_hosts.items() if consumers and calls(hosts, configmap.namespace)
        }
        used = [(who, referring_keys if keys is None else referring_keys & keys) for who, keys in consumers]
        keys = sorted(set().union(*(read for _, read in used)))
        if keys:
            users = tuple(sorted({who for who, read in used if read}))
            callers.append(
                Caller("ConfigMap", configmap.namespace, configmap.name, tuple(f"key {k}" for k in keys), users)
            )
    return sorted(callers, key=lambda c: (c.kind == "ConfigMap", c.namespace, c.kind, c.name))


def _place(name: str) -> str:
    """``env SERVICEA_URL``, or ``args[2]`` / ``command[0]`` as they are."""
    return name if name.startswith(("args[", "command[")) else f"env {name}"


def _readers_by_configmap(
    workloads: Iterable[Workload],
) -> dict[tuple[str, str], list[tuple[str, frozenset[str] | None]]]:
    """(namespace, configmap) -> (workload described, the keys it reads or None for all)."""
    readers: dict[tuple[str, str], list[tuple[str, frozenset[str] | None]]] = {}
    for workload in workloads:
        for name, keys in workload.configmaps.items():
            readers.setdefault((workload.namespace, name), []).append((workload.describe(), keys))
    return readers


def callers_of(service: str, namespace: str, *, view: ClusterView, cluster_domain: str) -> list[Caller]:
    """``find_callers`` over what the view says refers to any name of ``namespace/service``."""
    workloads, configmaps = view.referring(candidate_names(service, namespace, cluster_domain))
    return find_callers(
        service=service,
        namespace=namespace,
        workloads=workloads,
        configmaps=configmaps,
        cluster_domain=cluster_domain,
    )
