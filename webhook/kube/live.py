"""The ``Cluster`` lookups over live API reads, and the idempotent writes nsmigrate makes: create, patch
and delete a Service, one mirror write, one Event."""

from __future__ import annotations

import contextvars
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor

from webhook.core import labels
from webhook.core.callers import CALLER_KINDS, referring
from webhook.core.endpoints import Endpoints, endpoints_from_object
from webhook.core.fields import JsonObject
from webhook.core.mirror import MirrorAction
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
from webhook.kube.client import ApiError, Kube, path_of, retry_on_conflict
from webhook.kube.fresh import Batched


class KubeCluster:
    """The ``Cluster`` interface over live API reads: for writes, for confirming what a cache cannot
    vouch for, and for one-off commands."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="api-get")
        # Fresh lists wait on the API server's watch cache (up to ~100 ms each): a pool of their own, so
        # that a deletion's barrier never queues a first deploy's GETs behind it.
        lists = ThreadPoolExecutor(max_workers=len(CALLER_KINDS) + 1, thread_name_prefix="api-list")
        self._versions: Batched[None, str] = Batched(lambda _: self._read_version(), lists)
        self._lists: Batched[tuple[str, str], list[JsonObject]] = Batched(self._read_kind, lists)

    def current_version(self) -> str:
        """The API server's resourceVersion now (a consistent LIST of one Namespace), shared by every
        caller that asked while the previous such read was running."""
        return self._versions.submit(None).result()

    def _read_version(self) -> str:
        return self.kube.list_page("Namespace", limit=1, token="")[1]

    def contents(self, namespace: str, kinds: Collection[str]) -> tuple[list[Workload], list[ConfigMap]]:
        """The objects of these kinds (workload kinds, ConfigMap) in ``namespace`` as stored now: one LIST
        per kind, made together, each shared with whoever asked for it while the previous one ran."""
        futures = [self._lists.submit((namespace, kind)) for kind in kinds]
        found = [obj for future in futures for obj in future.result()]
        workloads = [w for obj in found if obj["kind"] != "ConfigMap" and (w := workload_from_object(obj))]
        return workloads, [configmap_from_object(obj) for obj in found if obj["kind"] == "ConfigMap"]

    def _read_kind(self, key: tuple[str, str]) -> list[JsonObject]:
        namespace, kind = key
        return list(self.kube.list_all(kind, namespace))

    def fresh_contents(self, namespace: str) -> tuple[list[Workload], list[ConfigMap]]:
        return self.contents(namespace, CALLER_KINDS)

    def services_named(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Service | None]:
        """GETs made together, so that several cost about one round trip. GETs, not one LIST: a GET is a
        quorum read of etcd, a consistent LIST waits for the API server's watch cache (up to ~100 ms)."""

        # Each GET runs in the caller's context, so that it is counted as the admission's own.
        def read(key: tuple[str, str], context: contextvars.Context) -> Service | None:
            return context.run(self.service, *key)

        futures = [self._pool.submit(read, key, contextvars.copy_context()) for key in keys]
        return {key: future.result() for key, future in zip(keys, futures, strict=True)}

    def namespace(self, name: str) -> Namespace | None:
        obj = self.kube.get("Namespace", None, name)
        return namespace_from_object(obj) if obj else None

    def namespaces(self) -> list[Namespace]:
        return [namespace_from_object(obj) for obj in self.kube.list_all("Namespace")]

    def service(self, namespace: str, name: str) -> Service | None:
        obj = self.kube.get("Service", namespace, name)
        return service_from_object(obj) if obj else None

    def services(self, namespace: str | None = None) -> list[Service]:
        return [service_from_object(obj) for obj in self.kube.list_all("Service", namespace)]

    def endpoint_slices(self, namespace: str, service: str) -> list[EndpointSlice]:
        found = self.kube.list_labelled("EndpointSlice", namespace, f"kubernetes.io/service-name={service}")
        return [endpointslice_from_object(obj) for obj in found]

    def workloads(self, namespace: str | None = None) -> list[Workload]:
        found = (workload_from_object(obj) for kind in WORKLOAD_KINDS for obj in self.kube.list_all(kind, namespace))
        return [workload for workload in found if workload is not None]

    def network_policies(self) -> list[Policy]:
        return [policy_from_object(obj) for obj in self.kube.list_all("NetworkPolicy")]

    def exists(self, kind: str, namespace: str, name: str) -> bool | None:
        """A GET as whoever runs this (``plan`` reads Secrets with the operator's rights); None if refused."""
        try:
            return self.kube.get(kind, namespace, name) is not None
        except ApiError as error:
            if error.status in (401, 403):
                return None
            raise

    def configmaps(self, namespace: str | None = None) -> list[ConfigMap]:
        return [configmap_from_object(obj) for obj in self.kube.list_all("ConfigMap", namespace)]

    def referring(self, names: frozenset[str]) -> tuple[list[Workload], list[ConfigMap]]:
        """Reads every workload and ConfigMap of the cluster: for one-off commands, not admission."""
        return referring(names, self.workloads(), self.configmaps())

    def live(self) -> KubeCluster:
        return self

    def create_service(self, manifest: JsonObject, *, timeout: float) -> None:
        try:
            self.kube.create(manifest, timeout=timeout)
        except ApiError as error:
            if error.status != 409:
                raise

    def patch_service(self, namespace: str, name: str, patch: JsonObject) -> None:
        self.kube.request(
            "PATCH", path_of("Service", namespace, name), body=patch, content_type="application/merge-patch+json"
        )

    def delete_service(self, namespace: str, name: str, *, uid: str) -> None:
        """Delete that very Service (the uid precondition spares a namesake created since); gone is fine."""
        options = {"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": {"uid": uid} if uid else {}}
        try:
            self.kube.request("DELETE", path_of("Service", namespace, name), body=options)
        except ApiError as error:
            if error.status != 404:
                raise

    def mirrored_endpoints(self, namespace: str, name: str) -> Endpoints | None:
        found = self.kube.get("Endpoints", namespace, name)
        if found is None or (found["metadata"].get("labels") or {}).get(labels.PROXY) != "true":
            return None
        return endpoints_from_object(found)

    def write_mirror(self, action: MirrorAction) -> None:
        """One mirror write; idempotent: an existing slice on create, a gone object on delete, are fine."""
        path = path_of(action.kind, action.namespace, action.name)
        try:
            if action.verb == "apply":
                self.kube.apply(action.body)
            elif action.verb == "create":
                self.kube.create(action.body)
            elif action.verb == "update":
                self.kube.request("PATCH", path, body=action.body, content_type="application/merge-patch+json")
            else:
                uid = action.body.get("uid")
                options = {"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": {"uid": uid} if uid else {}}
                self.kube.request("DELETE", path, body=options)
        except ApiError as error:
            if not (action.verb == "create" and error.status == 409) and error.status != 404:
                raise

    def record_event(self, event: JsonObject) -> None:
        """Create the Event, or bump the count of the one of that name (optimistic, retried)."""
        metadata = event["metadata"]
        try:
            self.kube.create(event)
            return
        except ApiError as error:
            if error.status != 409:
                raise

        def attempt() -> None:
            existing = self.kube.get("Event", metadata["namespace"], metadata["name"])
            if existing is None:
                self.kube.create(event)
                return
            bump = {
                "metadata": {"resourceVersion": existing["metadata"]["resourceVersion"]},
                "count": int(existing.get("count") or 1) + 1,
                "lastTimestamp": event["lastTimestamp"],
                "message": event["message"],
            }
            path = path_of("Event", metadata["namespace"], metadata["name"])
            self.kube.request("PATCH", path, body=bump, content_type="application/merge-patch+json")

        retry_on_conflict(attempt, what=f"event {metadata['name']} while its count was bumped")
