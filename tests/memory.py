"""An in-memory cluster for unit tests of the core: plain records in, the Cluster interface out."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Self

from webhook.core import labels
from webhook.core.callers import referring
from webhook.core.endpoints import Endpoints, endpoints_from_object
from webhook.core.fields import JsonObject
from webhook.core.netpol import Policy, policy_from_object
from webhook.core.objects import (
    ConfigMap,
    Namespace,
    Service,
    Workload,
    configmap_from_object,
    namespace_from_object,
    service_from_object,
    workload_from_object,
)
from webhook.core.slices import EndpointSlice, endpointslice_from_object


@dataclass
class MemoryCluster:
    namespaces_by_name: dict[str, Namespace] = field(default_factory=dict)
    service_records: list[Service] = field(default_factory=list)
    workload_records: list[Workload] = field(default_factory=list)
    configmap_records: list[ConfigMap] = field(default_factory=list)
    slice_records: list[EndpointSlice] = field(default_factory=list)
    policy_records: list[Policy] = field(default_factory=list)
    others: set[tuple[str, str, str]] = field(default_factory=set)
    """(kind, namespace, name) of the ServiceAccounts, Secrets and claims it holds."""
    endpoints_records: dict[tuple[str, str], Endpoints] = field(default_factory=dict)
    """Only those labelled nsmigrate.io/proxy, as the watch cache keeps them."""
    created: list[JsonObject] = field(default_factory=list)
    events: dict[tuple[str, str], JsonObject] = field(default_factory=dict)
    fail_writes: Exception | None = None

    @classmethod
    def of(cls, *manifests: JsonObject) -> Self:
        """A cluster holding these objects (Namespaces, Services, ConfigMaps, workloads)."""
        cluster = cls()
        for manifest in manifests:
            cluster.add(manifest)
        return cluster

    def add(self, manifest: JsonObject) -> None:
        kind = manifest["kind"]
        if kind == "Namespace":
            namespace = namespace_from_object(manifest)
            self.namespaces_by_name[namespace.name] = namespace
        elif kind == "Service":
            self.service_records.append(service_from_object(manifest))
        elif kind == "ConfigMap":
            self.configmap_records.append(configmap_from_object(manifest))
        elif kind == "EndpointSlice":
            self.slice_records.append(endpointslice_from_object(manifest))
        elif kind == "NetworkPolicy":
            self.policy_records.append(policy_from_object(manifest))
        elif kind in ("ServiceAccount", "Secret", "PersistentVolumeClaim"):
            self.others.add((kind, manifest["metadata"]["namespace"], manifest["metadata"]["name"]))
        elif kind == "Endpoints":
            if (manifest["metadata"].get("labels") or {}).get(labels.PROXY) == "true":
                found = endpoints_from_object(manifest)
                self.endpoints_records[(found.namespace, found.name)] = found
        elif (workload := workload_from_object(manifest)) is not None:
            self.workload_records.append(workload)
        else:
            raise ValueError(f"MemoryCluster does not hold {kind}")

    def namespace(self, name: str) -> Namespace | None:
        return self.namespaces_by_name.get(name)

    def namespaces(self) -> list[Namespace]:
        return list(self.namespaces_by_name.values())

    def service(self, namespace: str, name: str) -> Service | None:
        return next((s for s in self.service_records if (s.namespace, s.name) == (namespace, name)), None)

    def services(self, namespace: str | None = None) -> list[Service]:
        return [s for s in self.service_records if namespace in (None, s.namespace)]

    def services_named(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Service | None]:
        return {key: self.service(*key) for key in keys}

    def referring(self, names: frozenset[str]) -> tuple[list[Workload], list[ConfigMap]]:
        return referring(names, self.workload_records, self.configmap_records)

    def current_version(self) -> str:
        return ""

    def contents(self, namespace: str, kinds: Collection[str]) -> tuple[list[Workload], list[ConfigMap]]:
        workloads = [workload for workload in self.workloads(namespace) if workload.kind in kinds]
        return workloads, self.configmaps(namespace) if "ConfigMap" in kinds else []

    def fresh_contents(self, namespace: str) -> tuple[list[Workload], list[ConfigMap]]:
        return self.workloads(namespace), self.configmaps(namespace)

    def live(self) -> MemoryCluster:
        return self

    def endpoint_slices(self, namespace: str, service: str) -> list[EndpointSlice]:
        return [s for s in self.slice_records if (s.namespace, s.service) == (namespace, service)]

    def network_policies(self) -> list[Policy]:
        return list(self.policy_records)

    def exists(self, kind: str, namespace: str, name: str) -> bool | None:
        if kind == "ConfigMap":
            return any((c.namespace, c.name) == (namespace, name) for c in self.configmap_records)
        return (kind, namespace, name) in self.others

    def mirrored_endpoints(self, namespace: str, name: str) -> Endpoints | None:
        return self.endpoints_records.get((namespace, name))

    def workloads(self, namespace: str | None = None) -> list[Workload]:
        return [w for w in self.workload_records if namespace in (None, w.namespace)]

    def configmaps(self, namespace: str | None = None) -> list[ConfigMap]:
        return [c for c in self.configmap_records if namespace in (None, c.namespace)]

    def create_service(self, manifest: JsonObject, *, timeout: float) -> None:
        if self.fail_writes is not None:
            raise self.fail_writes
        self.created.append(manifest)
        self.add(manifest)

    def record_event(self, event: JsonObject) -> None:
        if self.fail_writes is not None:
            raise self.fail_writes
        key = (event["metadata"]["namespace"], event["metadata"]["name"])
        if key in self.events:
            self.events[key] = {**event, "count": self.events[key]["count"] + 1}
        else:
            self.events[key] = event
