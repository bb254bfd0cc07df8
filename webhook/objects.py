"""Plain-data views of the Kubernetes objects nsmigrate decides on, and where a pod spec lives.

The decisions work on these small frozen records, whatever served them: the API server, a watch
cache or a test's literals.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from webhook import labels

JsonObject = dict[str, Any]

POD_TEMPLATE_PATHS: Mapping[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
"""Where each workload kind keeps its pod template; a bare Pod is its own template."""

CONTAINER_LISTS = ("initContainers", "containers")

# A Pod or Job with a controller of one of these kinds is counted through that controller.
_COUNTED_THROUGH_OWNER = {
    "Pod": frozenset({"ReplicaSet", "StatefulSet", "DaemonSet", "Job"}),
    "Job": frozenset({"CronJob"}),
}


@dataclass(frozen=True)
class Namespace:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    terminating: bool = False


@dataclass(frozen=True)
class ServicePort:
    port: int
    name: str | None = None
    protocol: str = "TCP"
    target_port: int | str | None = None
    app_protocol: str | None = None


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    selector: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[ServicePort, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    type: str = "ClusterIP"
    external_name: str | None = None

    @property
    def is_proxy(self) -> bool:
        """An ExternalName Service that nsmigrate created and manages."""
        return self.labels.get(labels.MANAGED_BY) == labels.MANAGER and labels.PROXY_FOR in self.annotations

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


@dataclass(frozen=True)
class Workload:
    """Anything with a pod spec: the workload kinds and bare Pods."""

    kind: str
    namespace: str
    name: str
    pod_spec: JsonObject
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    owner_kind: str | None = None

    @property
    def counted_through_owner(self) -> bool:
        """A controlled Pod or Job: its owner is the caller, so it must not count twice."""
        return self.owner_kind in _COUNTED_THROUGH_OWNER.get(self.kind, frozenset())

    def describe(self) -> str:
        return f"{self.kind.lower()} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class ConfigMap:
    namespace: str
    name: str
    data: Mapping[str, str] = field(default_factory=dict)


def pod_template(obj: JsonObject) -> JsonObject | None:
    """The pod template of a workload object (the Pod itself for a Pod), or None."""
    kind = obj.get("kind")
    if kind == "Pod":
        return obj
    path = POD_TEMPLATE_PATHS.get(str(kind))
    node: Any = obj
    for key in path or ():
        node = node.get(key) if isinstance(node, dict) else None
    return node if path and isinstance(node, dict) else None


def containers(pod_spec: JsonObject) -> Iterator[JsonObject]:
    """Init containers then containers: every container whose env nsmigrate reads."""
    for list_name in CONTAINER_LISTS:
        for container in pod_spec.get(list_name) or ():
            if isinstance(container, dict):
                yield container


def literal_env(pod_spec: JsonObject) -> Iterator[tuple[str, JsonObject]]:
    """(container name, env entry) for every env entry with a literal string ``value``."""
    for container in containers(pod_spec):
        for entry in container.get("env") or ():
            if isinstance(entry, dict) and isinstance(entry.get("value"), str):
                yield str(container.get("name", "")), entry


def consumed_configmaps(pod_spec: JsonObject) -> dict[str, frozenset[str] | None]:
    """ConfigMaps a pod spec reads: name -> the keys it reads, or None for all of them.

    envFrom and volumes read every key; configMapKeyRef reads one.
    """
    whole: set[str] = set()
    keys: dict[str, set[str]] = {}
    for container in containers(pod_spec):
        for source in container.get("envFrom") or ():
            whole.add(_name((source or {}).get("configMapRef")))
        for entry in container.get("env") or ():
            ref = ((entry or {}).get("valueFrom") or {}).get("configMapKeyRef")
            keys.setdefault(_name(ref), set()).add(str((ref or {}).get("key", "")))
    for volume in pod_spec.get("volumes") or ():
        whole.add(_name((volume or {}).get("configMap")))
        for source in ((volume or {}).get("projected") or {}).get("sources") or ():
            whole.add(_name((source or {}).get("configMap")))
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
    metadata = obj.get("metadata") or {}
    owner = next((ref for ref in metadata.get("ownerReferences") or () if ref.get("controller")), None)
    return Workload(
        kind=str(obj["kind"]),
        namespace=str(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        pod_spec=template.get("spec") or {},
        pod_labels=(template.get("metadata") or {}).get("labels") or {},
        owner_kind=owner.get("kind") if owner else None,
    )


def service_from_object(obj: JsonObject) -> Service:
    """The Service record of a v1 Service object."""
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    return Service(
        namespace=str(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        selector=spec.get("selector") or {},
        ports=tuple(
            ServicePort(
                port=int(port["port"]),
                name=port.get("name"),
                protocol=port.get("protocol") or "TCP",
                target_port=port.get("targetPort"),
                app_protocol=port.get("appProtocol"),
            )
            for port in spec.get("ports") or ()
        ),
        labels=metadata.get("labels") or {},
        annotations=metadata.get("annotations") or {},
        type=spec.get("type") or "ClusterIP",
        external_name=spec.get("externalName"),
    )


def namespace_from_object(obj: JsonObject) -> Namespace:
    metadata = obj.get("metadata") or {}
    return Namespace(
        name=str(metadata.get("name", "")),
        labels=metadata.get("labels") or {},
        terminating=(obj.get("status") or {}).get("phase") == "Terminating"
        or bool(metadata.get("deletionTimestamp")),
    )


def configmap_from_object(obj: JsonObject) -> ConfigMap:
    metadata = obj.get("metadata") or {}
    return ConfigMap(
        namespace=str(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        data={str(k): v for k, v in (obj.get("data") or {}).items() if isinstance(v, str)},
    )
