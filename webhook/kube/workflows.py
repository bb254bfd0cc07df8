"""The handover's writes against the API server: hand a live Service over, finalize it into the
ExternalName proxy, roll it back. Each is a read-modify-write retried on conflict."""

from __future__ import annotations

import contextlib
import datetime

from webhook.core import labels
from webhook.core.endpoints import ENDPOINT_CONTROLLER, ENDPOINTS_MANAGED_BY, MIRRORED_LABELS
from webhook.core.fields import JsonObject
from webhook.core.handover import finalize_manifest, handover_manifest, rollback_manifest
from webhook.core.mirror import MirrorAction
from webhook.core.objects import Service, service_from_object
from webhook.core.reconcile import Action
from webhook.core.waiting import poll_until
from webhook.kube.client import ApiError, path_of, retry_on_conflict
from webhook.kube.live import KubeCluster


def hand_over(cluster: KubeCluster, namespace: str, name: str, *, target: Service) -> JsonObject:
    """Hand the live Service over to ``target``: one UPDATE that removes only its selector (retried
    on conflict). The mirror then fills its slices before the endpoint controller's are removed."""

    def attempt() -> JsonObject:
        live = _live_service(cluster, namespace, name)
        found = service_from_object(live)
        if found.is_proxy and not found.selector:
            return live
        body = handover_manifest(live, target=target)
        handed = cluster.kube.request("PUT", path_of("Service", namespace, name), body=body).body
        claim_endpoints(cluster, namespace, name)
        return handed

    return retry_on_conflict(attempt, what=f"service {namespace}/{name} during the handover")


def _live_service(cluster: KubeCluster, namespace: str, name: str) -> JsonObject:
    live = cluster.kube.get("Service", namespace, name)
    if live is None:
        raise ApiError(404, f"service {namespace}/{name} not found")
    return live


def claim_endpoints(cluster: KubeCluster, namespace: str, name: str) -> None:
    """Make the Endpoints the endpoint controller left behind the mirror's: it stops managing a Service
    without selector, and Kubernetes' endpointslice-mirroring controller would turn it into slices that
    keep the old addresses after the old pods are gone. Labelled ``skip-mirror`` and nsmigrate's, it keeps
    serving the old pods to Endpoints readers until the mirror's next pass writes the new ones."""
    found = cluster.kube.get("Endpoints", namespace, name)
    if found is None or (found["metadata"].get("labels") or {}).get(ENDPOINTS_MANAGED_BY) != ENDPOINT_CONTROLLER:
        return
    patch = {"metadata": {"labels": MIRRORED_LABELS, "resourceVersion": found["metadata"]["resourceVersion"]}}
    try:
        path = path_of("Endpoints", namespace, name)
        cluster.kube.request("PATCH", path, body=patch, content_type="application/merge-patch+json")
    except ApiError as error:
        if error.status not in (404, 409):  # gone, or changed meanwhile: the mirror's apply claims it
            raise


def finalize(cluster: KubeCluster, namespace: str, name: str, *, target: Service, cluster_domain: str) -> JsonObject:
    """Turn a handed-over Service into the ExternalName proxy for ``target`` (its mirror then goes)."""

    def attempt() -> JsonObject:
        body = finalize_manifest(_live_service(cluster, namespace, name), target=target, cluster_domain=cluster_domain)
        return cluster.kube.request("PUT", path_of("Service", namespace, name), body=body).body

    done = retry_on_conflict(attempt, what=f"service {namespace}/{name} during the finalize")
    delete_mirror(cluster, namespace, name)
    return done


def roll_back(cluster: KubeCluster, namespace: str, name: str, *, now: datetime.datetime) -> JsonObject:
    """Restore a handed-over Service and remove its mirrored slices (the endpoint controller serves
    it again from its selector); its old cluster IP too, unless another Service took it."""

    def attempt() -> JsonObject:
        body = rollback_manifest(_live_service(cluster, namespace, name), now=now)
        path = path_of("Service", namespace, name)
        try:
            return cluster.kube.request("PUT", path, body=body).body
        except ApiError as error:
            if error.status != 422 or "clusterIP" not in body["spec"]:
                raise
        for key in ("clusterIP", "clusterIPs"):  # another Service took the old IP meanwhile
            body["spec"].pop(key, None)
        return cluster.kube.request("PUT", path, body=body).body

    restored = retry_on_conflict(attempt, what=f"service {namespace}/{name} during the rollback")
    _await_controller_slices(cluster, namespace, name)
    delete_mirror(cluster, namespace, name)
    return restored


def _await_controller_slices(cluster: KubeCluster, namespace: str, name: str, *, timeout: float = 10.0) -> None:
    """Until the endpoint controller has written slices for the restored selector (or ``timeout``):
    the mirrored ones keep serving meanwhile."""

    def served() -> bool:
        return any(s.managed_by == labels.SLICE_CONTROLLER for s in cluster.endpoint_slices(namespace, name))

    with contextlib.suppress(TimeoutError):
        poll_until(served, timeout=timeout, interval=0.1)


def delete_mirror(cluster: KubeCluster, namespace: str, name: str) -> None:
    """Remove the slices nsmigrate mirrored into ``namespace/name``, and its mirrored Endpoints while it is
    still nsmigrate's (the endpoint controller takes a restored Service's over by itself)."""
    for found in cluster.endpoint_slices(namespace, name):
        if found.managed_by == labels.SLICE_MANAGER:
            cluster.write_mirror(MirrorAction("delete", namespace, found.name, "rollback", {"uid": found.uid}))
    endpoints = cluster.mirrored_endpoints(namespace, name)
    if endpoints is not None and endpoints.ours:
        gone = MirrorAction("delete", namespace, name, "rollback", {"uid": endpoints.uid}, kind="Endpoints")
        cluster.write_mirror(gone)


def write_action(cluster: KubeCluster, action: Action, *, timeout: float) -> None:
    """Carry out one reconcile action; each write is idempotent (exists / gone are fine)."""
    if action.verb == "create":
        cluster.create_service(action.body, timeout=timeout)
    elif action.verb == "handover" and action.target is not None:
        hand_over(cluster, action.namespace, action.name, target=action.target)
    elif action.verb == "update":
        cluster.patch_service(action.namespace, action.name, action.body)
    else:
        cluster.delete_service(action.namespace, action.name, uid=str(action.body.get("uid", "")))
