"""The API server, reached through the official client: the only module that imports ``kubernetes``.

``Kube`` is a small JSON-in, JSON-out REST layer (reads skip the client's model classes: plain dicts
are what the decisions use, and they are much faster to build). ``KubeCluster`` serves the
``Cluster`` lookups from live reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

from kubernetes import client, config

from webhook.core.fields import JsonObject
from webhook.kube.watch import Gone

T = TypeVar("T")

FIELD_MANAGER = "nsmigrate"


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
    "PersistentVolumeClaim": Resource("v1", "persistentvolumeclaims"),
    "Ingress": Resource("networking.k8s.io/v1", "ingresses"),
    "IngressClass": Resource("networking.k8s.io/v1", "ingressclasses", namespaced=False),
    "HTTPRoute": Resource("gateway.networking.k8s.io/v1", "httproutes"),
    "GRPCRoute": Resource("gateway.networking.k8s.io/v1", "grpcroutes"),
    "ReferenceGrant": Resource("gateway.networking.k8s.io/v1beta1", "referencegrants"),
    "ServiceMonitor": Resource("monitoring.coreos.com/v1", "servicemonitors"),
    "PodMonitor": Resource("monitoring.coreos.com/v1", "podmonitors"),
    "AuthorizationPolicy": Resource("security.istio.io/v1", "authorizationpolicies"),
    "CustomResourceDefinition": Resource("apiextensions.k8s.io/v1", "customresourcedefinitions", namespaced=False),
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
        if response.status >= 400:
            raise ApiError(response.status, _message(raw) or str(response.reason))
        decoded = json.loads(raw) if raw else {}
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

    def list_served(self, kind: str) -> Iterator[JsonObject]:
        """``list_all`` of a kind the cluster may not serve (no CRD) or the caller may not list: then none."""
        try:
            yield from self.list_all(kind)
        except ApiError as error:
            if error.status not in (403, 404):
                raise

    def list_labelled(self, kind: str, namespace: str | None, selector: str) -> list[JsonObject]:
        """Every object of a kind whose labels match ``selector`` (one request: small answers only)."""
        body = self.request("GET", path_of(kind, namespace), query=[("labelSelector", selector)]).body
        return list(body.get("items") or ())

    def list_page(
        self, kind: str, namespace: str | None = None, *, limit: int, token: str, selector: str = ""
    ) -> tuple[list[JsonObject], str, str]:
        """One page of a list: (items, resourceVersion, continue token). An expired token is Gone.
        The one paginated read: ``list_all`` and the reflectors page through it."""
        query = [("limit", str(limit))] + ([("continue", token)] if token else [])
        query += [("labelSelector", selector)] if selector else []
        try:
            body = self.request("GET", path_of(kind, namespace), query=query).body
        except ApiError as error:
            if error.status == 410:
                raise Gone(error.message) from None
            raise
        metadata = body.get("metadata") or {}
        return list(body.get("items") or ()), str(metadata.get("resourceVersion", "")), metadata.get("continue") or ""

    def watch(
        self, kind: str, *, resource_version: str, timeout_seconds: int, selector: str = ""
    ) -> Iterator[JsonObject]:
        """Watch events of every namespace from ``resource_version``, with bookmarks, streamed."""
        query = [
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("resourceVersion", resource_version),
            ("timeoutSeconds", str(timeout_seconds)),
        ]
        query += [("labelSelector", selector)] if selector else []
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


def _message(raw: bytes) -> str:
    """The message of an error answer: a Status object's, or the text itself (``404 page not found`` for
    an API group the server does not serve)."""
    try:
        decoded = json.loads(raw) if raw else {}
    except ValueError:
        return raw.decode(errors="replace").strip()[:300]
    return str(decoded.get("message", "")) if isinstance(decoded, dict) else str(decoded)


def _warnings(headers: Any) -> list[str]:
    """The texts of ``Warning: 299 - "text"`` response headers."""
    values = headers.getlist("Warning") if hasattr(headers, "getlist") else [headers.get("Warning")]
    texts = []
    for value in values:
        for part in (value or "").split('299 - "')[1:]:
            texts.append(part.rstrip().rstrip(",").rstrip('"').replace('\\"', '"'))
    return texts
