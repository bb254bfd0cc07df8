"""The mirrored ``v1`` Endpoints of a handed-over Service: what consumers of the Endpoints API still read.

Older ingress controllers, Prometheus ``role: endpoints`` and some meshes read Endpoints, not
EndpointSlices, and Kubernetes mirrors Endpoints into slices, never back. So beside the mirrored slices
nsmigrate keeps one Endpoints object of the old Service's name with the same addresses and ports,
labelled ``endpointslice.kubernetes.io/skip-mirror`` (Kubernetes' endpointslice-mirroring controller
must not turn it into duplicate slices) and ``nsmigrate.io/proxy`` (the one label nsmigrate's watch
selects). Past ``MAX_ADDRESSES`` it keeps the first ones in address order and says so in the
``endpoints.kubernetes.io/over-capacity: truncated`` annotation, as Kubernetes' endpoint controller does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from webhook.core import labels
from webhook.core.fields import JsonObject, dig, entries, shared, strings
from webhook.core.slices import EndpointSlice, pod_fields

MAX_ADDRESSES = 1000
"""Per Endpoints object, as Kubernetes' endpoint controller (``maxCapacity``)."""

OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror"
ENDPOINTS_MANAGED_BY = "endpoints.kubernetes.io/managed-by"
ENDPOINT_CONTROLLER = "endpoint-controller"
"""The endpoint controller's value of ``ENDPOINTS_MANAGED_BY``; nsmigrate's is ``labels.SLICE_MANAGER``."""

MIRRORED_LABELS = {SKIP_MIRROR: "true", labels.PROXY: "true", ENDPOINTS_MANAGED_BY: labels.SLICE_MANAGER}
"""What makes an Endpoints object nsmigrate's mirror (and what claims the endpoint controller's at handover)."""


@dataclass(frozen=True, slots=True, order=True)
class Address:
    ip: str
    hostname: str = ""
    node_name: str = ""
    pod: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Port:
    name: str
    port: int
    protocol: str = "TCP"
    app_protocol: str | None = None


@dataclass(frozen=True, slots=True)
class Subset:
    addresses: tuple[Address, ...]
    ports: tuple[Port, ...]


@dataclass(frozen=True, slots=True)
class Endpoints:
    """An Endpoints object reduced to what the mirror compares."""

    namespace: str
    name: str
    subsets: tuple[Subset, ...] = ()
    truncated: bool = False
    ours: bool = False
    """It carries nsmigrate's managed-by label (a claimed or created mirror)."""
    uid: str = ""

    @property
    def addresses(self) -> list[str]:
        return sorted(a.ip for subset in self.subsets for a in subset.addresses)


def endpoints_from_object(obj: JsonObject) -> Endpoints:
    """The Endpoints record of a v1 Endpoints object (ready addresses only: the mirror writes no others)."""
    metadata = dig(obj, "metadata")
    subsets = []
    for subset in entries(obj.get("subsets")):
        addresses = []
        for address in entries(subset.get("addresses")):
            ref = dig(address, "targetRef")
            pod = (str(ref.get("namespace", "")), str(ref.get("name", ""))) if ref.get("kind") == "Pod" else None
            addresses.append(
                Address(
                    ip=str(address.get("ip", "")),
                    hostname=str(address.get("hostname") or ""),
                    node_name=str(address.get("nodeName") or ""),
                    pod=pod,
                )
            )
        ports = tuple(
            Port(
                name=str(port.get("name") or ""),
                port=port["port"],
                protocol=shared(port.get("protocol") or "TCP"),
                app_protocol=port.get("appProtocol"),
            )
            for port in entries(subset.get("ports"))
            if isinstance(port.get("port"), int)
        )
        subsets.append(Subset(tuple(addresses), ports))
    found = strings(metadata.get("labels"))
    return Endpoints(
        namespace=shared(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        subsets=tuple(subsets),
        truncated=OVER_CAPACITY in strings(metadata.get("annotations")),
        ours=found.get(ENDPOINTS_MANAGED_BY) == labels.SLICE_MANAGER,
        uid=str(metadata.get("uid", "")),
    )


def desired_endpoints(namespace: str, name: str, slices: Sequence[EndpointSlice]) -> Endpoints:
    """The Endpoints that serve what the mirrored ``slices`` serve: one subset per port set, both address
    families, at most ``MAX_ADDRESSES`` addresses in all (the first in address order)."""
    by_ports: dict[tuple[Port, ...], set[Address]] = {}
    for found in slices:
        ports = tuple(Port(p.name, p.port, p.protocol, p.app_protocol) for p in found.ports if p.port is not None)
        addresses = by_ports.setdefault(ports, set())
        for endpoint in found.endpoints:
            addresses.update(
                Address(ip, endpoint.hostname or "", endpoint.node_name or "", endpoint.pod)
                for ip in endpoint.addresses
            )
    room, subsets, truncated = MAX_ADDRESSES, [], False
    for ports in sorted(by_ports, key=repr):
        kept = sorted(by_ports[ports])[: max(room, 0)]
        truncated = truncated or len(kept) < len(by_ports[ports])
        room -= len(kept)
        if kept:
            subsets.append(Subset(tuple(kept), ports))
    return Endpoints(namespace, name, tuple(subsets), truncated=truncated, ours=True)


def same_content(existing: Endpoints, desired: Endpoints) -> bool:
    """Whether ``existing`` already serves what ``desired`` does, as nsmigrate's mirror. Compared as sets:
    the API server stores subsets in its own order (``RepackSubsets``)."""
    return existing.ours and existing.truncated == desired.truncated and _canonical(existing) == _canonical(desired)


def _canonical(found: Endpoints) -> frozenset[tuple[frozenset[Port], frozenset[Address]]]:
    return frozenset((frozenset(s.ports), frozenset(s.addresses)) for s in found.subsets)


def endpoints_manifest(desired: Endpoints, *, target: str) -> JsonObject:
    """The whole Endpoints object (a server-side apply body: create, claim and update alike)."""
    metadata: JsonObject = {
        "name": desired.name,
        "namespace": desired.namespace,
        "labels": {**MIRRORED_LABELS, labels.MANAGED_BY: labels.MANAGER},
        "annotations": {labels.PROXY_FOR: target},
    }
    if desired.truncated:
        metadata["annotations"][OVER_CAPACITY] = "truncated"
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": metadata, "subsets": _subsets(desired)}


def _subsets(desired: Endpoints) -> list[JsonObject]:
    subsets = []
    for subset in desired.subsets:
        addresses = []
        for address in subset.addresses:
            pod = pod_fields(hostname=address.hostname, node_name=address.node_name, pod=address.pod)
            addresses.append({"ip": address.ip, **pod})
        ports = []
        for port in subset.ports:
            spec: JsonObject = {"name": port.name, "port": port.port, "protocol": port.protocol}
            if port.app_protocol:
                spec["appProtocol"] = port.app_protocol
            ports.append(spec)
        subsets.append({"addresses": addresses, "ports": ports})
    return subsets
