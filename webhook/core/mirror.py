"""The mirror: EndpointSlices that make a handed-over Service serve the ready pods of the new one.

The old Service keeps its type, cluster IP, ports and node ports; only its selector is gone. Its
slices (``endpointslice.kubernetes.io/managed-by: nsmigrate.io``) carry the ready endpoints of the
new Service's slices, each old port mapped to the port the new pods serve for it. Kubernetes'
endpointslice-mirroring controller is the model: deterministic desired slices of at most 100
endpoints, compared with the existing ones, and only the difference written.

Beside the slices, one ``v1`` Endpoints object with the same addresses (``webhook.core.endpoints``).

Pure: ``plan_mirror`` reads a view and returns the writes; the runtime's leader loop makes them.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from webhook.core import labels
from webhook.core.cluster import ClusterView
from webhook.core.endpoints import desired_endpoints, endpoints_manifest, same_content
from webhook.core.fields import JsonObject
from webhook.core.findings import warning_event
from webhook.core.migration import migration_of
from webhook.core.objects import Service, ServicePort
from webhook.core.settings import Settings
from webhook.core.slices import Endpoint, EndpointSlice, SlicePort, pod_fields

MAX_ENDPOINTS = 100
"""Per slice, as Kubernetes' own controllers (``--max-endpoints-per-slice`` default)."""

FAMILIES = ("IPv4", "IPv6")
"""Address types mirrored (FQDN slices point at names, not pods: never mirrored)."""


@dataclass(frozen=True)
class PortMap:
    """An old Service port, and the name of the new Service port whose pods serve it."""

    old: ServicePort
    new_name: str


def map_ports(old: Service, new: Service) -> tuple[list[PortMap], list[str]]:
    """Each old port matched to a new port: by name, else by number, else by the old target port
    number, else the new Service's only port of that protocol. The problems name the unmatched ones."""
    found, problems = [], []
    for port in old.ports:
        same_protocol = [p for p in new.ports if p.protocol == port.protocol]
        match = (
            next((p for p in same_protocol if port.name and p.name == port.name), None)
            or next((p for p in same_protocol if p.port == port.port), None)
            or next((p for p in same_protocol if p.port == port.target_port), None)
            or (same_protocol[0] if len(same_protocol) == 1 else None)
        )
        if match is None:
            label = f"{port.port}/{port.protocol}" + (f" ({port.name})" if port.name else "")
            problems.append(
                f"port {label} of {old.namespace}/{old.name} has no counterpart in {new.namespace}/{new.name}"
            )
        else:
            found.append(PortMap(port, match.name or ""))
    return found, problems


def desired_slices(old: Service, new: Service, new_slices: Sequence[EndpointSlice]) -> list[EndpointSlice]:
    """The slices ``old`` needs: the ready endpoints of ``new_slices``, ports mapped, by family and
    port set, at most ``MAX_ENDPOINTS`` each, with names that depend only on their content."""
    mapping, _ = map_ports(old, new)
    groups: dict[tuple[str, tuple[SlicePort, ...]], dict[tuple[str, ...], Endpoint]] = {}
    for source in sorted(new_slices, key=lambda s: s.name):
        if source.address_type not in FAMILIES:
            continue
        served = {port.name: port.port for port in source.ports}
        ports = tuple(
            SlicePort(
                name=m.old.name or "", port=served[m.new_name], protocol=m.old.protocol, app_protocol=m.old.app_protocol
            )
            for m in mapping
            if served.get(m.new_name) is not None
        )
        if mapping and not ports:
            continue  # these pods serve none of the old ports
        endpoints = groups.setdefault((source.address_type, ports), {})
        for endpoint in source.endpoints:
            if endpoint.ready and endpoint.addresses:
                endpoints.setdefault(endpoint.addresses, endpoint)
    wanted = []
    for (family, ports), endpoints in sorted(groups.items(), key=lambda item: (item[0][0], repr(item[0][1]))):
        ordered = [endpoints[key] for key in sorted(endpoints)]
        digest = hashlib.sha256(repr((family, ports)).encode()).hexdigest()[:6]
        for index in range(0, len(ordered), MAX_ENDPOINTS):
            wanted.append(
                EndpointSlice(
                    namespace=old.namespace,
                    name=f"{old.name}-nsmigrate-{family.lower()}-{digest}-{index // MAX_ENDPOINTS}",
                    service=old.name,
                    managed_by=labels.SLICE_MANAGER,
                    address_type=family,
                    ports=ports,
                    endpoints=tuple(ordered[index : index + MAX_ENDPOINTS]),
                )
            )
    return wanted


def slice_manifest(wanted: EndpointSlice, *, old: Service, target: str) -> JsonObject:
    """The EndpointSlice object for a desired slice of ``old``, owned by it (deleted with it)."""
    metadata: JsonObject = {
        "name": wanted.name,
        "namespace": wanted.namespace,
        "labels": {
            labels.SERVICE_NAME: old.name,
            labels.SLICE_MANAGED_BY: labels.SLICE_MANAGER,
            labels.MANAGED_BY: labels.MANAGER,
        },
        "annotations": {labels.PROXY_FOR: target},
    }
    if old.uid:
        metadata["ownerReferences"] = [{"apiVersion": "v1", "kind": "Service", "name": old.name, "uid": old.uid}]
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": metadata,
        "addressType": wanted.address_type,
        **slice_content(wanted),
    }


def slice_content(wanted: EndpointSlice) -> JsonObject:
    """``ports`` and ``endpoints`` of a slice: what an update replaces."""
    ports = []
    for port in wanted.ports:
        entry: JsonObject = {"name": port.name, "port": port.port, "protocol": port.protocol}
        if port.app_protocol:
            entry["appProtocol"] = port.app_protocol
        ports.append(entry)
    endpoints = []
    for endpoint in wanted.endpoints:
        entry = {
            "addresses": list(endpoint.addresses),
            "conditions": {"ready": True, "serving": True, "terminating": False},
            **pod_fields(hostname=endpoint.hostname, node_name=endpoint.node_name, pod=endpoint.pod),
        }
        if endpoint.zone:
            entry["zone"] = endpoint.zone
        endpoints.append(entry)
    return {"ports": ports, "endpoints": endpoints}


MirrorVerb = Literal["create", "update", "delete", "apply"]


@dataclass(frozen=True)
class MirrorAction:
    verb: MirrorVerb
    namespace: str
    name: str
    reason: str
    body: JsonObject = field(default_factory=dict)
    """create: the manifest; update: a merge patch of ports and endpoints; apply: the whole object
    (server-side apply); delete: {"uid": ...}."""
    kind: Literal["EndpointSlice", "Endpoints"] = "EndpointSlice"


NoteKind = Literal["target missing", "selector restored", "no consent", "ports"]


@dataclass(frozen=True)
class MirrorNote:
    """Something an operator must hear about a handed-over Service (an Event, a ``status`` line)."""

    kind: NoteKind
    namespace: str
    name: str
    message: str


@dataclass
class MirrorPlan:
    actions: list[MirrorAction] = field(default_factory=list)
    notes: list[MirrorNote] = field(default_factory=list)
    mirrored: int = 0
    """Handed-over Services whose slices follow their target now."""


def plan_mirror(view: ClusterView, settings: Settings) -> MirrorPlan:
    """Every slice write the handed-over Services need now, and what to tell about them."""
    plan = MirrorPlan()
    for old in view.services():
        if old.handed_over:
            _plan_one(view, settings, old, plan)
        elif old.selector:  # rolled back, or its owner re-applied it whole: Kubernetes serves it again
            plan.actions += _served_again(view, old)
    return plan


def _served_again(view: ClusterView, old: Service) -> list[MirrorAction]:
    """A Service that is no longer handed over keeps no mirrored slice, nor a mirrored Endpoints, once the
    endpoint controller serves it again (until then the mirrored ones keep it served)."""
    slices = view.endpoint_slices(old.namespace, old.name)
    if not any(s.managed_by == labels.SLICE_CONTROLLER for s in slices):
        return []
    gone = [_delete(s, "not handed over any more") for s in slices if s.managed_by == labels.SLICE_MANAGER]
    return gone + _endpoints_gone(view, old, "not handed over any more")


def _endpoints_actions(
    view: ClusterView, old: Service, wanted: Sequence[EndpointSlice], source: str
) -> list[MirrorAction]:
    """The mirrored Endpoints written (server-side apply) when it differs from what the slices serve."""
    desired = desired_endpoints(old.namespace, old.name, wanted)
    existing = view.mirrored_endpoints(old.namespace, old.name)
    if existing is not None and same_content(existing, desired):
        return []
    body = endpoints_manifest(desired, target=source)
    return [MirrorAction("apply", old.namespace, old.name, f"mirrors {source}", body, kind="Endpoints")]


def _endpoints_gone(view: ClusterView, old: Service, reason: str) -> list[MirrorAction]:
    existing = view.mirrored_endpoints(old.namespace, old.name)
    if existing is None or not existing.ours:
        return []
    return [MirrorAction("delete", old.namespace, old.name, reason, {"uid": existing.uid}, kind="Endpoints")]


def _plan_one(view: ClusterView, settings: Settings, old: Service, plan: MirrorPlan) -> None:
    slices = view.endpoint_slices(old.namespace, old.name)
    ours = {s.name: s for s in slices if s.managed_by == labels.SLICE_MANAGER}
    where = f"{old.namespace}/{old.name}"
    target_key = old.proxy_target
    target = view.service(*target_key) if target_key else None
    if not old.mirrored or old.selector:
        if old.selector:  # its owner put the selector back: Kubernetes serves it again, we step aside
            message = (
                f"{where} has a selector again (its owner re-applied it): nsmigrate stopped mirroring it; "
                f"remove the Service from its owner, or ignore its selector there, then run nsmigrate handover"
            )
            plan.notes.append(MirrorNote("selector restored", old.namespace, old.name, message))
        plan.actions += [_delete(s, "not mirrored any more") for s in ours.values()]
        plan.actions += _endpoints_gone(view, old, "not mirrored any more")
        return
    if target is None:
        message = (
            f"{where} was handed over to {old.annotations.get(labels.PROXY_FOR)}, which is gone: its endpoints "
            f"stay as they were last mirrored; restore the target or run nsmigrate rollback {where}"
        )
        plan.notes.append(MirrorNote("target missing", old.namespace, old.name, message))
        return
    migration, _ = migration_of(target.namespace, view=view, settings=settings)
    if migration is None or migration.old != old.namespace or not migration.consent:
        message = (
            f"{where} is not mirrored from {target.namespace}/{target.name}: that needs {labels.MIGRATE_FROM}="
            f"{old.namespace} on {target.namespace} and {labels.SOURCE}=true on {old.namespace}; endpoints frozen"
        )
        plan.notes.append(MirrorNote("no consent", old.namespace, old.name, message))
        return
    _, problems = map_ports(old, target)
    if problems:
        plan.notes.append(MirrorNote("ports", old.namespace, old.name, "; ".join(problems)))
    plan.mirrored += 1
    wanted = desired_slices(old, target, view.endpoint_slices(target.namespace, target.name))
    source = f"{target.namespace}/{target.name}"
    pending = []
    for desired in wanted:
        existing = ours.pop(desired.name, None)
        if existing is None:
            manifest = slice_manifest(desired, old=old, target=source)
            pending.append(MirrorAction("create", old.namespace, desired.name, f"mirrors {source}", manifest))
        elif _content(existing) != _content(desired):
            body = slice_content(desired)
            pending.append(MirrorAction("update", old.namespace, desired.name, f"follows {source}", body))
    pending += [_delete(s, f"no longer in {source}") for s in ours.values()]
    plan.actions += pending
    plan.actions += _endpoints_actions(view, old, wanted, source)
    if not pending and wanted:  # ours are complete: the endpoint controller's leftovers can go
        leftovers = [s for s in slices if s.managed_by in (labels.SLICE_CONTROLLER, labels.SLICE_MIRRORING)]
        plan.actions += [_delete(s, "left by the endpoint controller before the handover") for s in leftovers]


def _delete(found: EndpointSlice, reason: str) -> MirrorAction:
    return MirrorAction("delete", found.namespace, found.name, reason, {"uid": found.uid})


def _content(found: EndpointSlice) -> EndpointSlice:
    """What a comparison looks at: everything but identity."""
    return replace(found, uid="", endpoints=tuple(replace(e, ready=True) for e in found.endpoints))


def serving(view: ClusterView, service: Service) -> list[Endpoint]:
    """The ready endpoints a Service's slices hold now (for ``status`` and the tests)."""
    return [e for s in view.endpoint_slices(service.namespace, service.name) for e in s.endpoints if e.ready]


NOTE_REASONS: dict[NoteKind, str] = {
    "target missing": "HandoverTargetMissing",
    "selector restored": "HandoverSelectorRestored",
    "no consent": "HandoverNotConsented",
    "ports": "HandoverPortUnserved",
}


def note_event(note: MirrorNote, *, uid: str, now: datetime.datetime) -> JsonObject:
    """A Warning Event on the handed-over Service; a repeated note bumps its count."""
    where = ("Service", note.namespace, note.name, uid)
    return warning_event(where, reason=NOTE_REASONS[note.kind], message=note.message, action="Mirror", now=now)
