"""The cluster as the decisions see it: the few lookups they need, and the one write admission makes.

The API-server implementation is ``webhook.kube.live.KubeCluster``; tests use an in-memory one; the watch
cache (``webhook.kube.cache``) serves the same lookups from memory.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from webhook.core.endpoints import Endpoints
from webhook.core.fields import JsonObject
from webhook.core.netpol import Policy
from webhook.core.objects import ConfigMap, Namespace, Service, Workload
from webhook.core.slices import EndpointSlice


class ClusterView(Protocol):
    """Read-only lookups."""

    def namespace(self, name: str) -> Namespace | None: ...

    def namespaces(self) -> list[Namespace]: ...

    def service(self, namespace: str, name: str) -> Service | None: ...

    def services(self, namespace: str | None = None) -> list[Service]:
        """The Services of a namespace, or of every namespace."""
        ...

    def services_named(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Service | None]:
        """Several Services by (namespace, name) at once, None for those that do not exist."""
        ...

    def endpoint_slices(self, namespace: str, service: str) -> list[EndpointSlice]:
        """The EndpointSlices of a Service (by their ``kubernetes.io/service-name`` label), any manager."""
        ...

    def mirrored_endpoints(self, namespace: str, name: str) -> Endpoints | None:
        """The Endpoints object of that name if it carries ``nsmigrate.io/proxy`` (the mirror's own), else None."""
        ...

    def network_policies(self) -> list[Policy]:
        """Every NetworkPolicy of the cluster."""
        ...

    def exists(self, kind: str, namespace: str, name: str) -> bool | None:
        """Whether that object exists (ConfigMap, ServiceAccount, PersistentVolumeClaim, Secret, ...), or None
        when this view cannot know (the webhook's cache never holds Secrets)."""
        ...

    def workloads(self, namespace: str) -> list[Workload]: ...

    def configmaps(self, namespace: str) -> list[ConfigMap]: ...

    def referring(self, names: frozenset[str]) -> tuple[list[Workload], list[ConfigMap]]:
        """What caller finding needs for these host names (see ``callers.referring``)."""
        ...

    def fresh_contents(self, namespace: str) -> tuple[list[Workload], list[ConfigMap]]:
        """The workloads and ConfigMaps of ``namespace`` including every write the API server stored before
        this call (what a proxy's deletion must not miss)."""
        ...

    def live(self) -> ClusterView:
        """The same lookups answered by the API server now, bypassing any cache (itself, if uncached)."""
        ...


class Cluster(ClusterView, Protocol):
    """Lookups plus the writes nsmigrate's shell performs, and the reads a cache confirms itself with."""

    def current_version(self) -> str:
        """The store's resourceVersion now (one consistent read), "" if it has none."""
        ...

    def contents(self, namespace: str, kinds: Collection[str]) -> tuple[list[Workload], list[ConfigMap]]:
        """The objects of these kinds (workload kinds, "ConfigMap") in ``namespace``, as stored now."""
        ...

    def create_service(self, manifest: JsonObject, *, timeout: float) -> None:
        """Create a Service; an existing one of that name is not an error. Raises on failure."""
        ...

    def record_event(self, event: JsonObject) -> None:
        """Write an Event; one of the same name has its count bumped instead. Raises on failure."""
        ...
