"""Readiness checks that ask the API server, for ``nsmigrate plan`` (as the operator, never on the
admission path): Secrets exist, a Pod of the template is admitted (server-side dry run), what grants the
old ServiceAccount holds."""

from __future__ import annotations

from webhook.core.cluster import ClusterView
from webhook.core.fields import JsonObject
from webhook.core.identity import Binding, binding_from_object
from webhook.core.readiness import pod_from_template
from webhook.kube.client import ApiError, Kube, path_of


class LiveInventory:
    """``exists`` from the view where it knows, from a GET where it does not (Secrets)."""

    def __init__(self, view: ClusterView, kube: Kube) -> None:
        self.view = view
        self.kube = kube

    def exists(self, kind: str, namespace: str, name: str) -> bool | None:
        known = self.view.exists(kind, namespace, name)
        if known is not None:
            return known
        try:
            return self.kube.get(kind, namespace, name) is not None
        except ApiError as error:
            if error.status in (401, 403):
                return None
            raise


def pod_refusal(kube: Kube, workload: JsonObject) -> str | None:
    """Why the workload's namespace refuses a Pod of its template (server-side dry run), None if admitted."""
    pod = pod_from_template(workload)
    if pod is None:
        return None
    namespace = str(pod["metadata"].get("namespace") or "")
    try:
        kube.request("POST", path_of("Pod", namespace), query=[("dryRun", "All")], body=pod)
    except ApiError as error:
        if error.status == 404 and "namespaces" in error.message:
            return None  # the namespace does not exist yet: nothing to ask
        return error.message
    return None


def bindings(kube: Kube) -> list[Binding]:
    return [
        binding_from_object({**obj, "kind": kind})
        for kind in ("RoleBinding", "ClusterRoleBinding")
        for obj in kube.list_served(kind)
    ]


def account_annotations(kube: Kube, namespace: str, name: str) -> dict[str, str]:
    try:
        found = kube.get("ServiceAccount", namespace, name)
    except ApiError:
        return {}
    return dict((found or {}).get("metadata", {}).get("annotations") or {})


def mesh_policies(kube: Kube) -> list[JsonObject]:
    return list(kube.list_served("AuthorizationPolicy"))
