"""Plain-data views of EndpointSlices: what the mirror reads and compares."""

from __future__ import annotations

from dataclasses import dataclass

from webhook.core import labels
from webhook.core.fields import JsonObject, dig, entries, shared, strings


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


def pod_fields(*, hostname: str | None, node_name: str | None, pod: tuple[str, str] | None) -> JsonObject:
    """What an endpoint says of the pod behind it, in Endpoints and EndpointSlices alike (unset ones left out)."""
    fields: JsonObject = {}
    if hostname:
        fields["hostname"] = hostname
    if node_name:
        fields["nodeName"] = node_name
    if pod:
        fields["targetRef"] = {"kind": "Pod", "namespace": pod[0], "name": pod[1]}
    return fields
