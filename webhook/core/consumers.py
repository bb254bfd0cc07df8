"""Who else reads a moved Service: Ingresses and Gateway routes (their backends), Prometheus monitors
(their selectors), meshes (their namespace labels). Each consumer is named with what the move means
for it; the broken ones are also findings (``IngressBackendExternalName``).

Pure: typed views built once from the manifests a command listed (``consumer_objects``), judged against
the cache's Services and Namespaces.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from webhook.core import labels
from webhook.core.cluster import ClusterView
from webhook.core.fields import JsonObject, dig, entries, strings
from webhook.core.findings import Finding
from webhook.core.objects import Service

ROUTE_KINDS = ("HTTPRoute", "GRPCRoute")
GATEWAY_GROUP = "gateway.networking.k8s.io"
EXTERNALNAME_REFUSED = "many controllers refuse ExternalName backends (ingress-gce, Contour by default)"
REFUSING_CLASSES = {
    "gce": "ingress-gce refuses ExternalName backends",
    "gce-internal": "ingress-gce refuses ExternalName backends",
    "contour": "Contour refuses ExternalName backends unless enableExternalNameService is set",
}
"""Ingress classes whose controller is known to refuse an ExternalName backend."""


def externalname_note(route: Backends) -> str:
    """What an ExternalName backend means for this Ingress's controller, by its class."""
    known = REFUSING_CLASSES.get(route.ingress_class)
    if known:
        return f"ingress class {route.ingress_class}: {known}"
    return EXTERNALNAME_REFUSED + (f"; check class {route.ingress_class}" if route.ingress_class else "")


@dataclass(frozen=True, slots=True)
class Backends:
    """An Ingress or a Gateway route, reduced to the Services it sends to."""

    kind: str
    namespace: str
    name: str
    services: tuple[tuple[str, str], ...]
    """(namespace, name) of each Service backend."""
    ingress_class: str = ""

    @property
    def object(self) -> str:
        return f"{self.kind.lower()} {self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Grant:
    """A ReferenceGrant: routes of ``from_namespaces`` (by kind) may refer to Services of its namespace."""

    namespace: str
    from_kinds: frozenset[tuple[str, str]]
    """(kind, namespace) of the routes allowed."""
    to_names: frozenset[str]
    """Services named; empty means every Service of the namespace."""


@dataclass(frozen=True, slots=True)
class Consumer:
    """Something that reads a moved Service, and what the move means for it."""

    object: str
    service: str
    note: str

    def as_json(self) -> dict[str, str]:
        return {"object": self.object, "service": self.service, "note": self.note}


def backends_from_object(obj: JsonObject) -> Backends:
    metadata, spec = dig(obj, "metadata"), dig(obj, "spec")
    namespace = str(metadata.get("namespace", ""))
    found: list[tuple[str, str]] = []
    if obj.get("kind") == "Ingress":
        backends = [dig(spec, "defaultBackend")] + [
            dig(path, "backend")
            for rule in entries(spec.get("rules"))
            for path in entries(dig(rule, "http").get("paths"))
        ]
        found = [(namespace, str(dig(b, "service").get("name"))) for b in backends if dig(b, "service").get("name")]
        ingress_class = str(
            spec.get("ingressClassName") or strings(metadata.get("annotations")).get("kubernetes.io/ingress.class", "")
        )
        return Backends("Ingress", namespace, str(metadata.get("name", "")), tuple(dict.fromkeys(found)), ingress_class)
    for rule in entries(spec.get("rules")):
        for ref in entries(rule.get("backendRefs")):
            if ref.get("group", "") in ("", "core") and ref.get("kind", "Service") == "Service" and ref.get("name"):
                found.append((str(ref.get("namespace") or namespace), str(ref["name"])))
    return Backends(str(obj.get("kind")), namespace, str(metadata.get("name", "")), tuple(dict.fromkeys(found)))


def grant_from_object(obj: JsonObject) -> Grant:
    spec = dig(obj, "spec")
    from_kinds = frozenset(
        (str(f.get("kind", "")), str(f.get("namespace", "")))
        for f in entries(spec.get("from"))
        if f.get("group") == GATEWAY_GROUP
    )
    to = [t for t in entries(spec.get("to")) if t.get("group", "") in ("", "core") and t.get("kind") == "Service"]
    names = frozenset(str(t["name"]) for t in to if t.get("name"))
    return Grant(
        str(dig(obj, "metadata").get("namespace", "")), from_kinds, names if len(names) == len(to) else frozenset()
    )


def granted(route: Backends, namespace: str, name: str, grants: Iterable[Grant]) -> bool:
    """Whether ``route`` may send to Service ``namespace/name`` (its own namespace, or a ReferenceGrant)."""
    if namespace == route.namespace:
        return True
    return any(
        grant.namespace == namespace
        and (route.kind, route.namespace) in grant.from_kinds
        and (not grant.to_names or name in grant.to_names)
        for grant in grants
    )


def moved_services(view: ClusterView) -> dict[tuple[str, str], Service]:
    """Every Service a migration involves: proxies and handed-over Services, and their targets."""
    found: dict[tuple[str, str], Service] = {}
    for service in view.services():
        if service.is_proxy and service.proxy_target:
            found[(service.namespace, service.name)] = service
            target = view.service(*service.proxy_target)
            if target is not None:
                found[service.proxy_target] = target
    return found


def judge_backends(
    view: ClusterView, routes: Sequence[Backends], grants: Sequence[Grant]
) -> tuple[list[Consumer], list[Finding]]:
    """Each Ingress or route sending to a moved Service, and what breaks: an ExternalName backend, a
    cross-namespace backend without a ReferenceGrant."""
    moved = moved_services(view)
    consumers, findings = [], []
    for route in routes:
        for key in route.services:
            service = moved.get(key)
            if service is None:
                continue
            where = f"{key[0]}/{key[1]}"
            if service.type == "ExternalName":
                note = f"its backend {where} is an ExternalName proxy: {externalname_note(route)}"
                findings.append(_finding(route, note))
            elif service.mirrored:
                note = f"its backend {where} is handed over (mirrored endpoints): keep it so, finalize is refused"
            else:
                note = f"its backend {where} is the moved Service"
            if route.kind in ROUTE_KINDS and not granted(route, key[0], key[1], grants):
                note = f"its backendRef {where} is in another namespace and no ReferenceGrant there allows it"
                findings.append(_finding(route, note))
            consumers.append(Consumer(route.object, where, note))
    return consumers, findings


def _finding(route: Backends, note: str) -> Finding:
    return Finding("IngressBackendExternalName", route.kind, route.namespace, route.name, f"{route.object}: {note}")


def users_of(routes: Sequence[Backends], namespace: str, name: str) -> list[str]:
    """The Ingresses and routes that send to ``namespace/name`` (what keeps ``finalize`` from it)."""
    return [route.object for route in routes if (namespace, name) in route.services]


MESH_LABELS = {
    "istio-injection": "Istio sidecars",
    "istio.io/rev": "Istio sidecars",
    "istio.io/dataplane-mode": "Istio ambient",
}
LINKERD_INJECT = "linkerd.io/inject"


def mesh_of(namespace_labels: dict[str, str], annotations: dict[str, str] | None = None) -> str:
    """The mesh a namespace's pods join ("" for none), from its labels (and Linkerd's annotation)."""
    if namespace_labels.get("istio.io/dataplane-mode") == "ambient":
        return "Istio ambient"
    if namespace_labels.get("istio-injection") == "enabled" or "istio.io/rev" in namespace_labels:
        return "Istio sidecars"
    if (annotations or {}).get(LINKERD_INJECT) == "enabled" or namespace_labels.get(LINKERD_INJECT) == "enabled":
        return "Linkerd"
    return ""


MESH_CAVEATS = {
    "Istio ambient": "ambient is reported to ignore hand-written slices of a selectorless Service: check that callers "
    "through the mesh reach the handed-over Service",
    "Istio sidecars": "older Istio releases mishandle ExternalName proxies: keep the handed-over Service (no finalize)",
    "Linkerd": "Linkerd mishandles ExternalName proxies: keep the handed-over Service (no finalize)",
}


def mesh_consumers(view: ClusterView, namespace_annotations: dict[str, dict[str, str]]) -> list[Consumer]:
    """Migrations whose old or new namespace is in a mesh, with the caveat that applies."""
    consumers = []
    for namespace in view.namespaces():
        old = namespace.labels.get(labels.MIGRATE_FROM)
        if not old:
            continue
        for side in (old, namespace.name):
            found = view.namespace(side)
            mesh = mesh_of(dict(found.labels), namespace_annotations.get(side)) if found else ""
            if mesh:
                note = f"namespace {side} is in {mesh}: {MESH_CAVEATS[mesh]}"
                consumers.append(Consumer(f"namespace {side}", f"{old} -> {namespace.name}", note))
    return list(dict.fromkeys(consumers))


@dataclass(frozen=True, slots=True)
class Monitor:
    """A Prometheus Operator ServiceMonitor or PodMonitor, reduced to what it selects."""

    kind: str
    namespace: str
    name: str
    selector: tuple[tuple[str, str], ...]
    """matchLabels (matchExpressions are not judged: such a monitor is not named)."""
    namespaces: tuple[str, ...] | None
    """Where it looks; None: every namespace."""

    @property
    def object(self) -> str:
        return f"{self.kind.lower()} {self.namespace}/{self.name}"

    def looks_in(self, namespace: str) -> bool:
        return self.namespaces is None or namespace in self.namespaces

    def selects(self, found: dict[str, str]) -> bool:
        return bool(self.selector) and all(found.get(k) == v for k, v in self.selector)


def monitor_from_object(obj: JsonObject) -> Monitor:
    metadata, spec = dig(obj, "metadata"), dig(obj, "spec")
    namespace = str(metadata.get("namespace", ""))
    chosen = dig(spec, "namespaceSelector")
    names = tuple(str(n) for n in chosen.get("matchNames") or () if isinstance(n, str))
    namespaces = None if chosen.get("any") is True else (names or (namespace,))
    selector = dig(spec, "podSelector" if obj.get("kind") == "PodMonitor" else "selector")
    if selector.get("matchExpressions"):
        selector = {}
    return Monitor(
        str(obj.get("kind")),
        namespace,
        str(metadata.get("name", "")),
        tuple(sorted(strings(selector.get("matchLabels")).items())),
        namespaces,
    )


def judge_monitors(view: ClusterView, monitors: Sequence[Monitor]) -> list[Consumer]:
    """ServiceMonitors scraping a handed-over Service (they keep their targets: its endpoints are
    mirrored), and PodMonitors that find the moved pods by namespace (they lose them)."""
    consumers = []
    for service in view.services():
        if not (service.handed_over and service.proxy_target):
            continue
        target = view.service(*service.proxy_target)
        where = f"{service.namespace}/{service.name}"
        for monitor in monitors:
            if (
                monitor.kind == "ServiceMonitor"
                and monitor.looks_in(service.namespace)
                and monitor.selects(dict(service.labels))
            ):
                note = f"scrapes {where}: its mirrored endpoints are the new pods, its targets keep coming"
                consumers.append(Consumer(monitor.object, where, note))
            if monitor.kind != "PodMonitor" or target is None or monitor.looks_in(target.namespace):
                continue  # a ServiceMonitor of the old Service scrapes the moved pods through its endpoints
            pods = [w for w in view.workloads(target.namespace) if target.selects(w.pod_labels)]
            if any(monitor.selects(dict(w.pod_labels)) for w in pods) and monitor.looks_in(service.namespace):
                scope = ", ".join(monitor.namespaces or ())
                note = (
                    f"selects the pods of {where} by namespace ({scope}): the moved pods in {target.namespace} "
                    f"are lost; add {target.namespace} to its namespaceSelector"
                )
                consumers.append(Consumer(monitor.object, where, note))
    return consumers
