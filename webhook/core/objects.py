"""Plain-data views of the Kubernetes objects nsmigrate decides on: Namespaces, Services, workloads
and ConfigMaps.

The decisions work on these small frozen records, whatever served them: the API server, a watch
cache or a test's literals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from webhook.core import labels
from webhook.core.dependencies import Dependency, dependencies, named_ports
from webhook.core.downward import downward_hosts
from webhook.core.fields import JsonObject, dig, entries, shared, shared_strings, strings
from webhook.core.hosts import find_data_hosts, lookup_names
from webhook.core.podspec import Literal, consumed_configmaps, literal_references, pod_template

_NONE: Mapping[str, Any] = MappingProxyType({})
"""One empty mapping for every record that has nothing to say (most workloads consume no ConfigMap)."""

# A Pod or Job with a controller of one of these kinds is counted through that controller.
_COUNTED_THROUGH_OWNER = {
    "Pod": frozenset({"ReplicaSet", "StatefulSet", "DaemonSet", "Job"}),
    "Job": frozenset({"CronJob"}),
}


@dataclass(frozen=True, slots=True)
class Namespace:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    terminating: bool = False


@dataclass(frozen=True, slots=True)
class ServicePort:
    port: int
    name: str | None = None
    protocol: str = "TCP"
    target_port: int | str | None = None
    app_protocol: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    namespace: str
    name: str
    selector: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[ServicePort, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    type: str = "ClusterIP"
    external_name: str | None = None
    uid: str = ""
    cluster_ip: str = ""

    @property
    def is_proxy(self) -> bool:
        """A proxy: one nsmigrate created, or a Service handed over to a new one. Proxies made by
        earlier versions carry only ``managed-by: nsmigrate`` (the reconciler adds the label)."""
        if labels.PROXY_FOR not in self.annotations:
            return False
        return self.labels.get(labels.PROXY) == "true" or self.labels.get(labels.MANAGED_BY) == labels.MANAGER

    @property
    def handed_over(self) -> bool:
        """A user's Service nsmigrate took over (it keeps the original spec): never garbage-collected."""
        return self.is_proxy and labels.ORIGINAL_SPEC in self.annotations

    @property
    def mirrored(self) -> bool:
        """A handed-over Service that still serves through its own IP: nsmigrate mirrors its endpoints."""
        return self.handed_over and self.type != "ExternalName"

    @property
    def proxy_target(self) -> tuple[str, str] | None:
        """(namespace, name) this proxy points at, or None for any other Service."""
        if not self.is_proxy:
            return None
        namespace, _, name = self.annotations[labels.PROXY_FOR].partition("/")
        return (namespace, name) if namespace and name else None

    def selects(self, pod_labels: Mapping[str, str]) -> bool:
        """Whether this Service's selector picks pods with these labels (an empty one picks none)."""
        return bool(self.selector) and all(pod_labels.get(k) == v for k, v in self.selector.items())


@dataclass(frozen=True, slots=True)
class Workload:
    """Anything with a pod spec (the workload kinds and bare Pods), reduced to what decisions read:
    the host references of its literal env values and the ConfigMaps it consumes."""

    kind: str
    namespace: str
    name: str
    env_hosts: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(env name, or ``args[i]`` / ``command[i]``; hosts found in that literal value), for those holding any."""
    configmaps: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    """ConfigMaps consumed: name -> the keys read, or None for all of them."""
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    owner_kind: str | None = None
    available: bool = False
    """It serves: a Deployment reports Available, a StatefulSet or DaemonSet has every replica ready."""
    readiness: str = ""
    """How far it is, for people: "1/3 ready"."""
    named_ports: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    """Container port name -> (number, protocol): how a policy or a Service names a port of its pods."""
    host_network: bool = False
    """Its pods use the node's network: NetworkPolicies do not select them as pods."""
    needs: tuple[Dependency, ...] = ()
    """What must exist in its namespace for its pods to start (Secrets, ServiceAccount, ...)."""
    failure: str = ""
    """Why its pods cannot be created, as its controller reports it (a Deployment's ReplicaFailure)."""

    @property
    def counted_through_owner(self) -> bool:
        """A controlled Pod or Job: its owner is the caller, so it must not count twice."""
        return self.owner_kind in _COUNTED_THROUGH_OWNER.get(self.kind, frozenset())

    @property
    def hosts(self) -> frozenset[str]:
        """Every name its env, args and command refer to (``lookup_names``), as DNS compares them."""
        return frozenset(name for _, hosts in self.env_hosts for host in hosts for name in lookup_names(host))

    def describe(self) -> str:
        return f"{self.kind.lower()} {self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class ConfigMap:
    """A ConfigMap reduced to the host references found in its data."""

    namespace: str
    name: str
    key_hosts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """key -> hosts found in its value, for the keys that hold any."""

    @property
    def hosts(self) -> frozenset[str]:
        return frozenset(name for hosts in self.key_hosts.values() for host in hosts for name in lookup_names(host))


def workload_from_object(obj: JsonObject, *, literals: Iterable[Literal] | None = None) -> Workload | None:
    """The Workload record of a workload or Pod object, or None for anything else; ``literals``, when
    given, are its pod spec's ``literal_references`` already found (admission scans them once)."""
    template = pod_template(obj)
    if template is None:
        return None
    metadata = dig(obj, "metadata")
    owner = next((ref for ref in entries(metadata.get("ownerReferences")) if ref.get("controller") is True), {})
    pod_spec = dig(template, "spec")
    env_hosts: dict[str, tuple[str, ...]] = {}
    for literal in literal_references(pod_spec) if literals is None else literals:
        hosts = tuple(ref.host for ref in literal.refs)
        env_hosts[literal.place] = env_hosts.get(literal.place, ()) + hosts
    for place, host in downward_hosts(pod_spec):
        env_hosts[place] = (*env_hosts.get(place, ()), host)
    return Workload(
        kind=shared(obj["kind"]),
        namespace=shared(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        env_hosts=tuple(env_hosts.items()),
        configmaps=consumed_configmaps(pod_spec) or _NONE,
        pod_labels=shared_strings(dig(template, "metadata").get("labels")),
        owner_kind=str(owner["kind"]) if "kind" in owner else None,
        named_ports=named_ports(pod_spec) or _NONE,
        host_network=pod_spec.get("hostNetwork") is True,
        needs=dependencies(pod_spec),
        **_availability(obj),
    )


def _availability(obj: JsonObject) -> dict[str, Any]:
    """``available`` and ``readiness`` of a workload, from its status."""
    kind, spec, status = obj.get("kind"), dig(obj, "spec"), dig(obj, "status")
    if kind == "Deployment":
        wanted, ready = spec.get("replicas", 1), status.get("readyReplicas", 0)
        conditions = {c.get("type"): c.get("status") for c in entries(status.get("conditions"))}
        current = status.get("observedGeneration", 0) >= dig(obj, "metadata").get("generation", 0)
        failure = next((c for c in entries(status.get("conditions")) if c.get("type") == "ReplicaFailure"), {})
        return {
            "available": conditions.get("Available") == "True" and current,
            "readiness": f"{ready}/{wanted} ready",
            "failure": str(failure.get("message") or "") if failure.get("status") == "True" else "",
        }
    if kind == "StatefulSet":
        wanted, ready = spec.get("replicas", 1), status.get("readyReplicas", 0)
        return {"available": isinstance(ready, int) and ready >= wanted, "readiness": f"{ready}/{wanted} ready"}
    if kind == "DaemonSet":
        wanted, ready = status.get("desiredNumberScheduled", 0), status.get("numberAvailable", 0)
        return {"available": isinstance(ready, int) and 0 < wanted <= ready, "readiness": f"{ready}/{wanted} ready"}
    if kind == "Pod":
        conditions = {c.get("type"): c.get("status") for c in entries(status.get("conditions"))}
        ready = conditions.get("Ready") == "True"
        return {"available": ready, "readiness": "ready" if ready else "not ready"}
    return {"available": False, "readiness": "not a serving workload"}


def service_from_object(obj: JsonObject) -> Service:
    """The Service record of a v1 Service object."""
    metadata, spec = dig(obj, "metadata"), dig(obj, "spec")
    return Service(
        namespace=shared(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        selector=shared_strings(spec.get("selector")),
        ports=tuple(
            ServicePort(
                port=port["port"],
                name=shared(port["name"]) if port.get("name") else None,
                protocol=shared(port.get("protocol") or "TCP"),
                target_port=port.get("targetPort"),
                app_protocol=port.get("appProtocol"),
            )
            for port in entries(spec.get("ports"))
            if isinstance(port.get("port"), int)
        ),
        labels=shared_strings(metadata.get("labels")),
        annotations=strings(metadata.get("annotations")),
        type=shared(spec.get("type") or "ClusterIP"),
        external_name=spec.get("externalName"),
        uid=str(metadata.get("uid", "")),
        cluster_ip=str(spec.get("clusterIP") or ""),
    )


def namespace_from_object(obj: JsonObject) -> Namespace:
    metadata = dig(obj, "metadata")
    return Namespace(
        name=str(metadata.get("name", "")),
        labels=strings(metadata.get("labels")),
        terminating=dig(obj, "status").get("phase") == "Terminating" or bool(metadata.get("deletionTimestamp")),
    )


def configmap_from_object(obj: JsonObject) -> ConfigMap:
    metadata = dig(obj, "metadata")
    key_hosts = {}
    for key, value in strings(obj.get("data")).items():
        if hosts := tuple(ref.host for ref in find_data_hosts(value, key=key)):
            key_hosts[key] = hosts
    return ConfigMap(
        namespace=str(metadata.get("namespace", "")), name=str(metadata.get("name", "")), key_hosts=key_hosts
    )


class LabelIndex:
    """The workloads of a namespace by pod label, so that finding what a selector picks costs the
    shortest posting list, not a scan: a reconcile pass asks it once per Service."""

    def __init__(self, workloads: Iterable[Workload]) -> None:
        self.postings: dict[tuple[str, str], list[Workload]] = {}
        for workload in workloads:
            for item in workload.pod_labels.items():
                self.postings.setdefault(item, []).append(workload)

    def selected_by(self, service: Service) -> list[Workload]:
        """The workloads whose pod labels ``service`` selects (an empty selector picks none)."""
        if not service.selector:
            return []
        shortest = min((self.postings.get(item, []) for item in service.selector.items()), key=len)
        return [workload for workload in shortest if service.selects(workload.pod_labels)]
