"""Plain-data views of the Kubernetes objects nsmigrate decides on, and where a pod spec lives.

The decisions work on these small frozen records, whatever served them: the API server, a watch
cache or a test's literals.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from webhook.core import labels
from webhook.core.hosts import HostRef, find_data_hosts, find_hosts, flag_before, host_variables, lookup_names

JsonObject = dict[str, Any]

POD_TEMPLATE_PATHS: Mapping[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
"""Where each workload kind keeps its pod template; a bare Pod is its own template."""

WORKLOAD_KINDS = (*POD_TEMPLATE_PATHS, "Pod")
"""Everything with a pod spec: the workload kinds and bare Pods."""

CONTAINER_LISTS = ("initContainers", "containers")
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


def dig(obj: object, *path: str) -> JsonObject:
    """The object at ``path`` inside ``obj``, or {} where anything on the way is missing or not an object.

    Reviews may come from anyone who can reach the webhook: shapes are checked, not trusted.
    """
    node = obj
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def entries(value: object) -> list[JsonObject]:
    """The objects of a list field (env, containers, ports, ...), skipping anything else."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def strings(value: object) -> dict[str, str]:
    """A string-to-string map field (labels, annotations, selector, data), skipping other values."""
    return {str(k): v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) else {}


def shared(value: object) -> str:
    """A string stored once however many cached objects repeat it (namespaces, kinds, labels)."""
    return sys.intern(str(value))


def shared_strings(value: object) -> dict[str, str]:
    """``strings``, with keys and values shared: label sets repeat across thousands of objects."""
    return {shared(k): shared(v) for k, v in strings(value).items()}


def pod_template(obj: JsonObject) -> JsonObject | None:
    """The pod template of a workload object (the Pod itself for a Pod), or None."""
    kind = obj.get("kind")
    if kind == "Pod":
        return obj
    path = POD_TEMPLATE_PATHS.get(str(kind))
    return (dig(obj, *path) or None) if path else None


def env_editable_copy(obj: JsonObject) -> JsonObject:
    """A copy of a workload object in which annotations, env entries, args and command may be changed;
    every other part is shared with ``obj`` (which stays untouched), so copying and diffing cost little."""
    copy = dict(obj)
    if isinstance(obj.get("metadata"), dict):
        copy["metadata"] = dict(obj["metadata"])
        if isinstance(obj["metadata"].get("annotations"), dict):
            copy["metadata"]["annotations"] = dict(obj["metadata"]["annotations"])
    node = copy
    path = () if obj.get("kind") == "Pod" else POD_TEMPLATE_PATHS.get(str(obj.get("kind")), ())
    for key in (*path, "spec"):
        if not isinstance(node.get(key), dict):
            return copy
        node[key] = dict(node[key])
        node = node[key]
    for list_name in CONTAINER_LISTS:
        if isinstance(node.get(list_name), list):
            node[list_name] = [_env_copy(container) for container in node[list_name]]
    return copy


def _env_copy(container: object) -> object:
    if not isinstance(container, dict):
        return container
    copy = dict(container)
    if isinstance(container.get("env"), list):
        copy["env"] = [dict(entry) if isinstance(entry, dict) else entry for entry in container["env"]]
    for list_name in ARGUMENT_LISTS:
        if isinstance(container.get(list_name), list):
            copy[list_name] = list(container[list_name])
    return copy


def containers(pod_spec: JsonObject) -> Iterator[JsonObject]:
    """Init containers then containers: every container whose env nsmigrate reads."""
    for list_name in CONTAINER_LISTS:
        yield from entries(pod_spec.get(list_name))


ARGUMENT_LISTS = ("command", "args")


class Literal(NamedTuple):
    """A literal string of a container that refers to hosts: an env value, an args or command entry.

    A tuple, not a dataclass: admission makes one per reference-holding value, and tuples come cheap."""

    container: str
    place: str
    """How records name it: the env name, or ``args[i]`` / ``command[i]``."""
    value: str
    refs: tuple[HostRef, ...]
    """The host references the one finder found in it."""
    holder: Any
    """The env entry or the list it lives in, and its key there: where a rewrite writes it back."""
    key: str | int


def literal_references(pod_spec: JsonObject) -> Iterator[Literal]:
    """Every literal env value, args and command entry of the containers and init containers that
    refers to a host. An argument is read under the flag just before it (``--redis-host redis``); an
    env value under its variable's name, and as a host when another value uses ``$(NAME)`` as one."""
    for container in containers(pod_spec):
        name = str(container.get("name", ""))
        env = [entry for entry in entries(container.get("env")) if isinstance(entry.get("value"), str)]
        arguments = list(_arguments(container))
        used = frozenset[str]()
        if any("$(" in entry["value"] for entry in env) or any("$(" in item for *_, item in arguments):
            named = [(str(entry.get("name", "")), entry["value"]) for entry in env]
            used = host_variables(named + [(flag, item) for _, _, flag, item in arguments])
        for entry in env:
            variable = str(entry.get("name", ""))
            if refs := find_hosts(entry["value"], variable=variable, used_as_host=variable in used):
                yield Literal(name, variable, entry["value"], refs, entry, "value")
        for items, index, flag, item in arguments:
            if refs := find_hosts(item, variable=flag):
                place = f"{'args' if items is container.get('args') else 'command'}[{index}]"
                yield Literal(name, place, item, refs, items, index)


def _arguments(container: JsonObject) -> Iterator[tuple[list[Any], int, str, str]]:
    """(list, index, flag before it, entry) for the string entries of ``command`` and ``args``."""
    for list_name in ARGUMENT_LISTS:
        items = container.get(list_name)
        if not isinstance(items, list):
            continue
        previous = ""
        for index, item in enumerate(items):
            if isinstance(item, str):
                yield items, index, flag_before(previous), item
            previous = item if isinstance(item, str) else ""


def consumed_configmaps(pod_spec: JsonObject) -> dict[str, frozenset[str] | None]:
    """ConfigMaps a pod spec reads: name -> the keys it reads, or None for all of them.

    envFrom and volumes read every key; configMapKeyRef reads one.
    """
    whole: set[str] = set()
    keys: dict[str, set[str]] = {}
    for container in containers(pod_spec):
        for source in entries(container.get("envFrom")):
            whole.add(_name(source.get("configMapRef")))
        for entry in entries(container.get("env")):
            ref = dig(entry, "valueFrom", "configMapKeyRef")
            keys.setdefault(_name(ref), set()).add(str(ref.get("key", "")))
    for volume in entries(pod_spec.get("volumes")):
        whole.add(_name(volume.get("configMap")))
        for source in entries(dig(volume, "projected").get("sources")):
            whole.add(_name(source.get("configMap")))
    consumed: dict[str, frozenset[str] | None] = {name: frozenset(k) for name, k in keys.items()}
    consumed.update(dict.fromkeys(whole))
    consumed.pop("", None)
    return consumed


def _name(reference: object) -> str:
    """The ``name`` of a ConfigMap reference, or "" when there is none."""
    name = reference.get("name") if isinstance(reference, dict) else None
    return name if isinstance(name, str) else ""


def workload_from_object(obj: JsonObject) -> Workload | None:
    """The Workload record of a workload or Pod object, or None for anything else."""
    template = pod_template(obj)
    if template is None:
        return None
    metadata = dig(obj, "metadata")
    owner = next((ref for ref in entries(metadata.get("ownerReferences")) if ref.get("controller") is True), {})
    pod_spec = dig(template, "spec")
    env_hosts: dict[str, tuple[str, ...]] = {}
    for literal in literal_references(pod_spec):
        hosts = tuple(ref.host for ref in literal.refs)
        env_hosts[literal.place] = env_hosts.get(literal.place, ()) + hosts
    return Workload(
        kind=shared(obj["kind"]),
        namespace=shared(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        env_hosts=tuple(env_hosts.items()),
        configmaps=consumed_configmaps(pod_spec) or _NONE,
        pod_labels=shared_strings(dig(template, "metadata").get("labels")),
        owner_kind=str(owner["kind"]) if "kind" in owner else None,
        **_availability(obj),
    )


def _availability(obj: JsonObject) -> dict[str, Any]:
    """``available`` and ``readiness`` of a workload, from its status."""
    kind, spec, status = obj.get("kind"), dig(obj, "spec"), dig(obj, "status")
    if kind == "Deployment":
        wanted, ready = spec.get("replicas", 1), status.get("readyReplicas", 0)
        conditions = {c.get("type"): c.get("status") for c in entries(status.get("conditions"))}
        current = status.get("observedGeneration", 0) >= dig(obj, "metadata").get("generation", 0)
        return {"available": conditions.get("Available") == "True" and current, "readiness": f"{ready}/{wanted} ready"}
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


@dataclass(frozen=True, slots=True)
class SlicePort:
    name: str = ""
    port: int | None = None
    protocol: str = "TCP"
    app_protocol: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    addresses: tuple[str, ...]
    ready: bool = True
    hostname: str | None = None
    node_name: str | None = None
    zone: str | None = None
    pod: tuple[str, str] | None = None
    """(namespace, name) of the Pod behind it, when its targetRef says so."""


@dataclass(frozen=True, slots=True)
class EndpointSlice:
    """An EndpointSlice reduced to what the mirror reads and compares."""

    namespace: str
    name: str
    service: str
    managed_by: str = ""
    address_type: str = "IPv4"
    ports: tuple[SlicePort, ...] = ()
    endpoints: tuple[Endpoint, ...] = ()
    uid: str = ""


def endpointslice_from_object(obj: JsonObject) -> EndpointSlice:
    """The EndpointSlice record of a discovery.k8s.io/v1 EndpointSlice object."""
    metadata = dig(obj, "metadata")
    slice_labels = strings(metadata.get("labels"))
    endpoints = []
    for entry in entries(obj.get("endpoints")):
        conditions, ref = dig(entry, "conditions"), dig(entry, "targetRef")
        pod = (str(ref.get("namespace", "")), str(ref.get("name", ""))) if ref.get("kind") == "Pod" else None
        endpoints.append(
            Endpoint(
                addresses=tuple(str(address) for address in entry.get("addresses") or ()),
                ready=conditions.get("ready") is not False,  # unset means ready (API contract)
                hostname=entry.get("hostname"),
                node_name=entry.get("nodeName"),
                zone=entry.get("zone"),
                pod=pod,
            )
        )
    return EndpointSlice(
        namespace=shared(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        service=shared(slice_labels.get(labels.SERVICE_NAME, "")),
        managed_by=shared(slice_labels.get(labels.SLICE_MANAGED_BY, "")),
        address_type=shared(obj.get("addressType") or "IPv4"),
        ports=tuple(
            SlicePort(
                name=str(port.get("name") or ""),
                port=port.get("port") if isinstance(port.get("port"), int) else None,
                protocol=shared(port.get("protocol") or "TCP"),
                app_protocol=port.get("appProtocol"),
            )
            for port in entries(obj.get("ports"))
        ),
        endpoints=tuple(endpoints),
        uid=str(metadata.get("uid", "")),
    )
