"""The watch cache: compact projections of the objects decisions read, with the indexes they use.

It serves the ``ClusterView`` lookups from memory. Reflectors (``webhook.kube.watch``) feed it; until
every kind has been listed once it refuses to answer (``NotSynced``), so that no decision is ever
taken on a partial picture.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from typing import Any

from webhook.core import labels
from webhook.core.callers import CALLER_KINDS
from webhook.core.cluster import Cluster
from webhook.core.endpoints import Endpoints, endpoints_from_object
from webhook.core.fields import JsonObject, dig
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
from webhook.core.podspec import WORKLOAD_KINDS
from webhook.core.slices import EndpointSlice, endpointslice_from_object
from webhook.kube.fresh import Versions

Key = tuple[str, ...]
"""(name,) for a Namespace, (namespace, name) for a Service or ConfigMap, (kind, namespace, name) for a workload,
("EndpointSlice", namespace, name) for an EndpointSlice."""
PLAIN: dict[str, Callable[[JsonObject], Any]] = {
    "Endpoints": endpoints_from_object,
    "NetworkPolicy": policy_from_object,
    "ServiceAccount": lambda obj: True,
    "PersistentVolumeClaim": lambda obj: True,
}
"""Kinds kept by (namespace, name) only, with no index: their projection (of ServiceAccounts and claims,
only that they exist: what the readiness checks ask)."""

SELECTORS: dict[str, str] = {"Endpoints": f"{labels.PROXY}=true"}
"""Kinds watched through a label selector: of Endpoints, only the mirror's own (one object per
handed-over Service, not one per Service of the cluster)."""

FRESH_WAIT_SECONDS = 0.05
"""How long a fresh read waits for the reflectors to reach the API server's current resourceVersion before
it reads the kinds still behind live: events in flight arrive within milliseconds, a quiet kind's never."""

KINDS = ("Namespace", "Service", "ConfigMap", "EndpointSlice", *PLAIN, *WORKLOAD_KINDS)


class NotSynced(RuntimeError):
    """The cache has not listed every kind yet: it cannot answer."""


class Cache:
    """Thread-safe; writers are the reflectors, readers the admission threads and the reconciler."""

    def __init__(self, api: Cluster, kinds: Iterable[str] = KINDS) -> None:
        self.kinds = frozenset(kinds)
        self.api = api
        """The API server: for writes, and for confirming what a lagging cache cannot know."""
        self._lock = threading.RLock()
        self._synced: set[str] = set()
        self._all_synced = False
        self._listeners: list[Callable[[str], None]] = []
        self._namespaces: dict[str, Namespace] = {}
        self._services: dict[str, dict[str, Service]] = defaultdict(dict)
        self._workloads: dict[Key, Workload] = {}
        self._workloads_by_namespace: dict[str, set[Key]] = defaultdict(set)
        self._configmaps: dict[Key, ConfigMap] = {}
        self._configmaps_by_namespace: dict[str, set[Key]] = defaultdict(set)
        self._workloads_by_host: dict[str, set[Key]] = defaultdict(set)
        self._configmaps_by_host: dict[str, set[Key]] = defaultdict(set)
        self._consumers: dict[Key, set[Key]] = defaultdict(set)
        self._slices: dict[Key, EndpointSlice] = {}
        self._slices_by_service: dict[tuple[str, str], set[Key]] = defaultdict(set)
        self._plain: dict[str, dict[Key, Any]] = {kind: {} for kind in PLAIN}
        self.versions = Versions()
        """Where each reflector stands: what ``fresh_contents`` trusts the cache with."""
        self.fresh_kinds = {"cache": 0, "live": 0}
        """How often a fresh read took a kind from the cache, and how often it read it live."""

    @property
    def synced(self) -> bool:
        if self._all_synced:  # kinds are only ever added: once all are listed, they stay listed
            return True
        with self._lock:
            self._all_synced = self._synced >= self.kinds
            return self._all_synced

    def on_change(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(kind)`` after every change (from the reflector's thread)."""
        self._listeners.append(listener)

    def replace(self, kind: str, objects: Iterable[JsonObject]) -> None:
        """The complete content of ``kind`` after a list: everything else of that kind goes.

        ``objects`` may be a generator over list pages: each object is projected as it comes and
        dropped, so a large list never sits whole in memory, and readers wait only for the swap."""
        projected = [(_key(kind, obj), _project(kind, obj)) for obj in objects]
        with self._lock:
            for key in list(self._keys(kind)):
                self._remove(kind, key)
            for key, record in projected:
                self._put(kind, key, record)
            self._synced.add(kind)
        self._notify(kind)

    def apply(self, kind: str, event: str, obj: JsonObject) -> None:
        """One watch event: ADDED, MODIFIED or DELETED."""
        key = _key(kind, obj)
        record = None if event == "DELETED" else _project(kind, obj)
        with self._lock:
            self._remove(kind, key)
            if record is not None:
                self._put(kind, key, record)
        self._notify(kind)

    def size(self) -> int:
        with self._lock:
            return (
                len(self._namespaces)
                + sum(len(services) for services in self._services.values())
                + len(self._workloads)
                + len(self._configmaps)
                + len(self._slices)
                + sum(len(records) for records in self._plain.values())
            )

    # ClusterView

    def namespace(self, name: str) -> Namespace | None:
        with self._reading():
            return self._namespaces.get(name)

    def namespaces(self) -> list[Namespace]:
        with self._reading():
            return list(self._namespaces.values())

    def service(self, namespace: str, name: str) -> Service | None:
        with self._reading():
            return self._services.get(namespace, {}).get(name)

    def services(self, namespace: str | None = None) -> list[Service]:
        with self._reading():
            if namespace is None:
                return [service for services in self._services.values() for service in services.values()]
            return list(self._services.get(namespace, {}).values())

    def services_named(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Service | None]:
        return {key: self.service(*key) for key in keys}

    def endpoint_slices(self, namespace: str, service: str) -> list[EndpointSlice]:
        with self._reading():
            return [self._slices[key] for key in sorted(self._slices_by_service.get((namespace, service), ()))]

    def mirrored_endpoints(self, namespace: str, name: str) -> Endpoints | None:
        with self._reading():
            found: Endpoints | None = self._plain["Endpoints"].get(("Endpoints", namespace, name))
            return found

    def network_policies(self) -> list[Policy]:
        with self._reading():
            return list(self._plain["NetworkPolicy"].values())

    def exists(self, kind: str, namespace: str, name: str) -> bool | None:
        with self._reading():
            if kind == "ConfigMap":
                return (namespace, name) in self._configmaps
            if kind in PLAIN:
                return (kind, namespace, name) in self._plain[kind]
            return None

    def workloads(self, namespace: str) -> list[Workload]:
        with self._reading():
            return [self._workloads[key] for key in self._workloads_by_namespace.get(namespace, ())]

    def configmaps(self, namespace: str) -> list[ConfigMap]:
        with self._reading():
            return [self._configmaps[key] for key in self._configmaps_by_namespace.get(namespace, ())]

    def referring(self, names: frozenset[str]) -> tuple[list[Workload], list[ConfigMap]]:
        """From the host index: no scan of the cluster, whatever its size."""
        with self._reading():
            configmap_keys = set().union(*(self._configmaps_by_host.get(name, set()) for name in names))
            workload_keys = set().union(*(self._workloads_by_host.get(name, set()) for name in names))
            for key in configmap_keys:
                workload_keys |= self._consumers.get(key, set())
            return (
                [self._workloads[key] for key in sorted(workload_keys)],
                [self._configmaps[key] for key in sorted(configmap_keys)],
            )

    def fresh_contents(self, namespace: str) -> tuple[list[Workload], list[ConfigMap]]:
        """One barrier: a consistent read tells the API server's resourceVersion; the kinds whose reflector
        reaches it (within ``FRESH_WAIT_SECONDS``) come from the cache, the others are read live.

        A reflector only hears of its own kind's changes, so a quiet kind never proves itself current:
        that kind is read live, and such reads are shared by every decision that asked at once."""
        version = self.api.current_version()
        current = self.versions.wait(CALLER_KINDS, version, timeout=FRESH_WAIT_SECONDS, clock=time.monotonic)
        behind = [kind for kind in CALLER_KINDS if kind not in current]
        workloads, configmaps = self.api.contents(namespace, behind) if behind else ([], [])
        workloads += [workload for workload in self.workloads(namespace) if workload.kind in current]
        configmaps += self.configmaps(namespace) if "ConfigMap" in current else []
        with self._lock:
            self.fresh_kinds["cache"] += len(current)
            self.fresh_kinds["live"] += len(behind)
        return workloads, configmaps

    def live(self) -> Cluster:
        return self.api

    def current_version(self) -> str:
        return self.api.current_version()

    def contents(self, namespace: str, kinds: Collection[str]) -> tuple[list[Workload], list[ConfigMap]]:
        return self.api.contents(namespace, kinds)

    # Cluster writes go to the API server

    def create_service(self, manifest: JsonObject, *, timeout: float) -> None:
        self.api.create_service(manifest, timeout=timeout)

    def record_event(self, event: JsonObject) -> None:
        self.api.record_event(event)

    # internals

    def _reading(self) -> threading.RLock:
        if not self.synced:
            missing = ", ".join(sorted(self.kinds - self._synced))
            raise NotSynced(f"the watch cache has not synced yet (waiting for {missing})")
        return self._lock

    def _notify(self, kind: str) -> None:
        for listener in self._listeners:
            listener(kind)

    def _keys(self, kind: str) -> Iterable[Key]:
        if kind == "Namespace":
            return [(name,) for name in self._namespaces]
        if kind == "Service":
            return [(ns, name) for ns, services in self._services.items() for name in services]
        if kind == "ConfigMap":
            return self._configmaps.keys()
        if kind == "EndpointSlice":
            return list(self._slices)
        if kind in PLAIN:
            return list(self._plain[kind])
        return [key for key in self._workloads if key[0] == kind]

    def _put(self, kind: str, key: Key, record: Record) -> None:
        """Insert a projection whose key is free (``_remove`` it first)."""
        if kind in PLAIN:
            self._plain[kind][key] = record
        elif isinstance(record, Namespace):
            self._namespaces[key[0]] = record
        elif isinstance(record, Service):
            self._services[record.namespace][record.name] = record
        elif isinstance(record, ConfigMap):
            self._configmaps[key] = record
            self._configmaps_by_namespace[record.namespace].add(key)
            for host in record.hosts:
                self._configmaps_by_host[host].add(key)
        elif isinstance(record, EndpointSlice):
            self._slices[key] = record
            self._slices_by_service[(record.namespace, record.service)].add(key)
        elif isinstance(record, Workload):
            workload = record
            self._workloads[key] = workload
            self._workloads_by_namespace[workload.namespace].add(key)
            for host in workload.hosts:
                self._workloads_by_host[host].add(key)
            for configmap_name in workload.configmaps:
                self._consumers[(workload.namespace, configmap_name)].add(key)

    def _remove(self, kind: str, key: tuple[str, ...]) -> None:
        if kind in PLAIN:
            self._plain[kind].pop(key, None)
        elif kind == "Namespace":
            self._namespaces.pop(key[0], None)
        elif kind == "Service":
            namespace, name = key
            self._services.get(namespace, {}).pop(name, None)
        elif kind == "ConfigMap":
            configmap = self._configmaps.pop(key, None)
            if configmap is not None:
                _discard(self._configmaps_by_namespace, configmap.namespace, key)
                for host in configmap.hosts:
                    _discard(self._configmaps_by_host, host, key)
        elif kind == "EndpointSlice":
            found = self._slices.pop(key, None)
            if found is not None:
                _discard(self._slices_by_service, (found.namespace, found.service), key)
        else:
            workload = self._workloads.pop(key, None)
            if workload is not None:
                _discard(self._workloads_by_namespace, workload.namespace, key)
                for host in workload.hosts:
                    _discard(self._workloads_by_host, host, key)
                for configmap_name in workload.configmaps:
                    _discard(self._consumers, (workload.namespace, configmap_name), key)


Record = Any
"""A projection: Namespace, Service, ConfigMap, EndpointSlice, Workload, a ``PLAIN`` kind's, or None."""


def _project(kind: str, obj: JsonObject) -> Record:
    """The compact record the cache keeps of an object (None for a kind it cannot project)."""
    if kind == "Namespace":
        return namespace_from_object(obj)
    if kind == "Service":
        return service_from_object(obj)
    if kind == "ConfigMap":
        return configmap_from_object(obj)
    if kind == "EndpointSlice":
        return endpointslice_from_object(obj)
    if kind in PLAIN:
        return PLAIN[kind](obj)
    return workload_from_object({**obj, "kind": kind})


def _key(kind: str, obj: JsonObject) -> tuple[str, ...]:
    metadata = dig(obj, "metadata")
    namespace, name = str(metadata.get("namespace", "")), str(metadata.get("name", ""))
    if kind == "Namespace":
        return (name,)
    if kind in ("Service", "ConfigMap"):
        return (namespace, name)
    return (kind, namespace, name)


def _discard(index: dict[Any, set[Key]], key: Hashable, member: Key) -> None:
    """Remove ``member`` from ``index[key]``, and the key itself once it is empty (no index grows forever)."""
    members = index.get(key)
    if members is not None:
        members.discard(member)
        if not members:
            del index[key]
