"""The API server, reached through the official client: the only module that imports ``kubernetes``.

``Kube`` is a small JSON-in, JSON-out REST layer (reads skip the client's model classes: plain dicts
are what the decisions use, and they are much faster to build). ``KubeCluster`` serves the
``Cluster`` lookups from live reads.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

from kubernetes import client, config

from webhook.core import labels
from webhook.core.callers import referring
from webhook.core.handover import finalize_manifest, handover_manifest, rollback_manifest
from webhook.core.mirror import SliceAction
from webhook.core.objects import (
    WORKLOAD_KINDS,
    ConfigMap,
    EndpointSlice,
    JsonObject,
    Namespace,
    Service,
    Workload,
    configmap_from_object,
    endpointslice_from_object,
    namespace_from_object,
    service_from_object,
    workload_from_object,
)
from webhook.core.waiting import poll_until
from webhook.kube.watch import Gone

T = TypeVar("T")

FIELD_MANAGER = "nsmigrate"
ENDPOINTS_MANAGED_BY = "endpoints.kubernetes.io/managed-by"


class Resource(NamedTuple):
    api_version: str
    plural: str
    namespaced: bool = True


RESOURCES: Mapping[str, Resource] = {
    "Namespace": Resource("v1", "namespaces", namespaced=False),
    "Service": Resource("v1", "services"),
    "ConfigMap": Resource("v1", "configmaps"),
    "Pod": Resource("v1", "pods"),
    "Event": Resource("v1", "events"),
    "EndpointSlice": Resource("discovery.k8s.io/v1", "endpointslices"),
    "Endpoints": Resource("v1", "endpoints"),
    "Deployment": Resource("apps/v1", "deployments"),
    "StatefulSet": Resource("apps/v1", "statefulsets"),
    "DaemonSet": Resource("apps/v1", "daemonsets"),
    "Job": Resource("batch/v1", "jobs"),
    "CronJob": Resource("batch/v1", "cronjobs"),
    "Secret": Resource("v1", "secrets"),
    "Node": Resource("v1", "nodes", namespaced=False),
    "ServiceAccount": Resource("v1", "serviceaccounts"),
    "Lease": Resource("coordination.k8s.io/v1", "leases"),
    "PodDisruptionBudget": Resource("policy/v1", "poddisruptionbudgets"),
    "NetworkPolicy": Resource("networking.k8s.io/v1", "networkpolicies"),
    "Role": Resource("rbac.authorization.k8s.io/v1", "roles"),
    "RoleBinding": Resource("rbac.authorization.k8s.io/v1", "rolebindings"),
    "ClusterRole": Resource("rbac.authorization.k8s.io/v1", "clusterroles", namespaced=False),
    "ClusterRoleBinding": Resource("rbac.authorization.k8s.io/v1", "clusterrolebindings", namespaced=False),
    "MutatingWebhookConfiguration": Resource(
        "admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", namespaced=False
    ),
    "ValidatingWebhookConfiguration": Resource(
        "admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", namespaced=False
    ),
}


class ApiError(Exception):
    """The API server answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Reply:
    status: int
    body: JsonObject
    warnings: list[str] = field(default_factory=list)


def path_of(kind: str, namespace: str | None = None, name: str | None = None) -> str:
    """The REST path of a kind's collection, or of one object when ``name`` is given."""
    resource = RESOURCES[kind]
    base = "/api/v1" if resource.api_version == "v1" else f"/apis/{resource.api_version}"
    if resource.namespaced and namespace:
        base += f"/namespaces/{quote(namespace)}"
    path = f"{base}/{resource.plural}"
    return f"{path}/{quote(name)}" if name else path


class Kube:
    """JSON requests to the API server, authenticated as the kubeconfig or service account says."""

    def __init__(self, api: client.ApiClient, *, timeout: float = 10.0) -> None:
        self.api = api
        self.timeout = timeout
        self.observers: list[Callable[[str, str], None]] = []
        """Called with (method, path) before each request: for counting API calls."""

    def _observe(self, method: str, path: str) -> None:
        for observer in self.observers:
            observer(method, path)

    @classmethod
    def connect(
        cls,
        kubeconfig: str | None = None,
        *,
        context: str | None = None,
        timeout: float = 10.0,
        pool_size: int = 8,
        retries: bool = True,
    ) -> Kube:
        """In-cluster credentials when neither a kubeconfig nor a context is named and they exist, else
        the kubeconfig (KUBECONFIG, ~/.kube/config) at ``context`` (default: its current context)."""
        configuration = client.Configuration()
        configuration.connection_pool_maxsize = pool_size
        if not retries:  # one attempt per request: urllib3 retries a timed-out GET three times otherwise
            configuration.retries = False
        if kubeconfig is None and context is None:
            try:
                config.load_incluster_config(client_configuration=configuration)
            except config.ConfigException:
                config.load_kube_config(client_configuration=configuration)
        else:
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
        return cls(client.ApiClient(configuration), timeout=timeout)

    @staticmethod
    def default_namespace(kubeconfig: str | None = None, *, context: str | None = None) -> str:
        """The namespace kubectl would use without -n: the context's, else "default"."""
        try:
            contexts, current = config.list_kube_config_contexts(config_file=kubeconfig)
        except config.ConfigException:
            return "default"
        chosen = next((c for c in contexts if c["name"] == context), None) if context else current
        return str((chosen or {}).get("context", {}).get("namespace") or "default")

    def request(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | None = None,
    ) -> Reply:
        """One request; an error status raises ApiError."""
        self._observe(method, path)
        headers = {"Accept": "application/json", "Content-Type": content_type}
        method, url, headers, body, _ = self.api.param_serialize(
            method, path, query_params=query or [], header_params=headers, body=body, auth_settings=["BearerToken"]
        )
        response = self.api.call_api(
            method, url, header_params=headers, body=body, _request_timeout=timeout or self.timeout
        )
        raw = response.read()
        decoded = json.loads(raw) if raw else {}
        if response.status >= 400:
            message = decoded.get("message", "") if isinstance(decoded, dict) else str(decoded)
            raise ApiError(response.status, message or str(response.reason))
        return Reply(response.status, decoded, _warnings(response.headers))

    def get(self, kind: str, namespace: str | None, name: str) -> JsonObject | None:
        try:
            return self.request("GET", path_of(kind, namespace, name)).body
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def list_all(self, kind: str, namespace: str | None = None, *, page: int = 500) -> Iterator[JsonObject]:
        """Every object of a kind, page by page; each with its kind set."""
        token = ""
        while True:
            items, _, token = self.list_page(kind, namespace, limit=page, token=token)
            for item in items:
                item.setdefault("kind", kind)
                yield item
            if not token:
                return

    def list_labelled(self, kind: str, namespace: str | None, selector: str) -> list[JsonObject]:
        """Every object of a kind whose labels match ``selector`` (one request: small answers only)."""
        body = self.request("GET", path_of(kind, namespace), query=[("labelSelector", selector)]).body
        return list(body.get("items") or ())

    def list_page(
        self, kind: str, namespace: str | None = None, *, limit: int, token: str
    ) -> tuple[list[JsonObject], str, str]:
        """One page of a list: (items, resourceVersion, continue token). An expired token is Gone.
        The one paginated read: ``list_all`` and the reflectors page through it."""
        query = [("limit", str(limit))] + ([("continue", token)] if token else [])
        try:
            body = self.request("GET", path_of(kind, namespace), query=query).body
        except ApiError as error:
            if error.status == 410:
                raise Gone(error.message) from None
            raise
        metadata = body.get("metadata") or {}
        return list(body.get("items") or ()), str(metadata.get("resourceVersion", "")), metadata.get("continue") or ""

    def watch(self, kind: str, *, resource_version: str, timeout_seconds: int) -> Iterator[JsonObject]:
        """Watch events of every namespace from ``resource_version``, with bookmarks, streamed."""
        query = [
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("resourceVersion", resource_version),
            ("timeoutSeconds", str(timeout_seconds)),
        ]
        method, url, headers, _, _ = self.api.param_serialize(
            "GET", path_of(kind), query_params=query, header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )  # fmt: skip
        self._observe("WATCH", path_of(kind))
        response = self.api.call_api(
            method, url, header_params=headers, _request_timeout=(self.timeout, timeout_seconds + 30)
        )
        raw = response.response
        try:
            if response.status >= 400:
                body = json.loads(raw.read() or b"{}")
                if response.status == 410:
                    raise Gone(body.get("message", ""))
                raise ApiError(response.status, body.get("message", ""))
            pending = b""
            for chunk in raw.stream(64 * 1024, decode_content=True):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield json.loads(line)
        finally:
            raw.release_conn()

    def apply(self, manifest: JsonObject, *, dry_run: bool = False, force: bool = True) -> Reply:
        """Server-side apply, as ``kubectl apply --server-side`` does."""
        metadata = manifest["metadata"]
        query = [("fieldManager", FIELD_MANAGER), ("force", "true" if force else "false")]
        if dry_run:
            query.append(("dryRun", "All"))
        path = path_of(manifest["kind"], metadata.get("namespace"), metadata["name"])
        return self.request("PATCH", path, query=query, body=manifest, content_type="application/apply-patch+yaml")

    def create(self, manifest: JsonObject, *, timeout: float | None = None) -> Reply:
        path = path_of(manifest["kind"], manifest["metadata"].get("namespace"))
        return self.request("POST", path, body=manifest, timeout=timeout)

    def delete(self, kind: str, namespace: str | None, name: str, *, dry_run: bool = False) -> Reply:
        query = [("dryRun", "All")] if dry_run else []
        return self.request("DELETE", path_of(kind, namespace, name), query=query)


def retry_on_conflict(attempt: Callable[[], T], *, what: str, attempts: int = 5) -> T:
    """Run ``attempt`` (read, decide, write with what was read) again while the write conflicts (409):
    the one retry rule of every read-modify-write nsmigrate makes."""
    for _ in range(attempts - 1):
        try:
            return attempt()
        except ApiError as error:
            if error.status != 409:
                raise
    try:
        return attempt()
    except ApiError as error:
        if error.status == 409:
            raise ApiError(409, f"{what}: kept changing, {attempts} attempts") from None
        raise


def _warnings(headers: Any) -> list[str]:
    """The texts of ``Warning: 299 - "text"`` response headers."""
    values = headers.getlist("Warning") if hasattr(headers, "getlist") else [headers.get("Warning")]
    texts = []
    for value in values:
        for part in (value or "").split('299 - "')[1:]:
            texts.append(part.rstrip().rstrip(",").rstrip('"').replace('\\"', '"'))
    return texts


class KubeCluster:
    """The ``Cluster`` interface over live API reads: for writes, for confirming what a cache cannot
    vouch for, and for one-off commands."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self._pool: ThreadPoolExecutor | None = None

    def services_named(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Service | None]:
        """GETs made together, so that several cost about one round trip."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="api-get")

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

    def hand_over(self, namespace: str, name: str, *, target: Service) -> JsonObject:
        """Hand the live Service over to ``target``: one UPDATE that removes only its selector (retried
        on conflict). The mirror then fills its slices before the endpoint controller's are removed."""

        def attempt() -> JsonObject:
            live = self._live_service(namespace, name)
            found = service_from_object(live)
            if found.is_proxy and not found.selector:
                return live
            body = handover_manifest(live, target=target)
            handed = self.kube.request("PUT", path_of("Service", namespace, name), body=body).body
            self.drop_stale_endpoints(namespace, name)
            return handed

        return retry_on_conflict(attempt, what=f"service {namespace}/{name} during the handover")

    def _live_service(self, namespace: str, name: str) -> JsonObject:
        live = self.kube.get("Service", namespace, name)
        if live is None:
            raise ApiError(404, f"service {namespace}/{name} not found")
        return live

    def drop_stale_endpoints(self, namespace: str, name: str) -> None:
        """Delete the Endpoints the endpoint controller left behind: it stops managing a Service without
        selector, and Kubernetes' endpointslice-mirroring controller would keep serving the old addresses
        from it after the old pods are gone. (Its own EndpointSlice stays until the mirror's are written.)"""
        found = self.kube.get("Endpoints", namespace, name)
        if found is None or (found["metadata"].get("labels") or {}).get(ENDPOINTS_MANAGED_BY) != "endpoint-controller":
            return
        options = {"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": {"uid": found["metadata"]["uid"]}}
        try:
            self.kube.request("DELETE", path_of("Endpoints", namespace, name), body=options)
        except ApiError as error:
            if error.status not in (404, 409):
                raise

    def finalize(self, namespace: str, name: str, *, target: Service, cluster_domain: str) -> JsonObject:
        """Turn a handed-over Service into the ExternalName proxy for ``target`` (its mirror then goes)."""

        def attempt() -> JsonObject:
            body = finalize_manifest(self._live_service(namespace, name), target=target, cluster_domain=cluster_domain)
            return self.kube.request("PUT", path_of("Service", namespace, name), body=body).body

        done = retry_on_conflict(attempt, what=f"service {namespace}/{name} during the finalize")
        self.delete_mirrored_slices(namespace, name)
        return done

    def roll_back(self, namespace: str, name: str, *, now: datetime.datetime) -> JsonObject:
        """Restore a handed-over Service and remove its mirrored slices (the endpoint controller serves
        it again from its selector); its old cluster IP too, unless another Service took it."""

        def attempt() -> JsonObject:
            body = rollback_manifest(self._live_service(namespace, name), now=now)
            path = path_of("Service", namespace, name)
            try:
                return self.kube.request("PUT", path, body=body).body
            except ApiError as error:
                if error.status != 422 or "clusterIP" not in body["spec"]:
                    raise
            for key in ("clusterIP", "clusterIPs"):  # another Service took the old IP meanwhile
                body["spec"].pop(key, None)
            return self.kube.request("PUT", path, body=body).body

        restored = retry_on_conflict(attempt, what=f"service {namespace}/{name} during the rollback")
        self._await_controller_slices(namespace, name)
        self.delete_mirrored_slices(namespace, name)
        return restored

    def _await_controller_slices(self, namespace: str, name: str, *, timeout: float = 10.0) -> None:
        """Until the endpoint controller has written slices for the restored selector (or ``timeout``):
        the mirrored ones keep serving meanwhile."""

        def served() -> bool:
            return any(s.managed_by == labels.SLICE_CONTROLLER for s in self.endpoint_slices(namespace, name))

        with contextlib.suppress(TimeoutError):
            poll_until(served, timeout=timeout, interval=0.1)

    def delete_mirrored_slices(self, namespace: str, name: str) -> None:
        """Remove the slices nsmigrate mirrored into ``namespace/name``."""
        for found in self.endpoint_slices(namespace, name):
            if found.managed_by == labels.SLICE_MANAGER:
                self.write_slice(SliceAction("delete", namespace, found.name, "rollback", {"uid": found.uid}))

    def write_slice(self, action: SliceAction) -> None:
        """One mirror write; idempotent: an existing slice on create, a gone one on delete, are fine."""
        path = path_of("EndpointSlice", action.namespace, action.name)
        try:
            if action.verb == "create":
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
