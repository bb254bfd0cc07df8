"""Shared end-to-end helpers: waiting for asynchronous effects, reading the webhook's metrics, setting up a
migration, and reading what the mirror serves. Fixtures live in ``conftest.py``; plain functions here."""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.core.waiting import poll_until
from webhook.dev import seed
from webhook.dev.environment import DevEnvironment
from webhook.kube.client import ApiError, Kube, Reply

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], *, timeout: float = 15.0, interval: float = 0.1) -> T:
    """The first truthy answer of ``probe`` (for effects written asynchronously), or fail."""
    try:
        return poll_until(probe, timeout=timeout, interval=interval)
    except TimeoutError as error:
        raise AssertionError(f"nothing came of it: {error}") from None


def api_server_tls(dev: DevEnvironment) -> ssl.SSLContext:
    """TLS as the API server speaks it to the webhook: trusting the webhook's CA and presenting the
    admission client certificate of its AdmissionConfiguration. /mutate and /validate hear nobody else."""
    context = ssl.create_default_context(cafile=str(dev.workdir / "webhook-certs" / "ca.crt"))
    context.load_cert_chain(*dev.control_plane.admission_client)
    return context


def post_review(port: int, path: str, body: dict[str, Any], context: ssl.SSLContext) -> tuple[int, str]:
    """POST a review to a webhook on a loopback port: its HTTP status and body (a refused handshake raises)."""
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    try:
        connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


def metrics(dev: DevEnvironment, port: int | None = None) -> str:
    """/metrics, open to any client (Prometheus scrapes without a client certificate)."""
    context = ssl.create_default_context(cafile=str(dev.workdir / "webhook-certs" / "ca.crt"))
    url = f"https://127.0.0.1:{port or dev.webhook_port}/metrics"
    with urllib.request.urlopen(url, context=context, timeout=5) as answer:
        return str(answer.read().decode())


def apply_all(kube: Kube, manifests: list[JsonObject]) -> list[Reply]:
    return [kube.apply(manifest) for manifest in manifests]


def migrating(kube: Kube, old: str, new: str, *, consent: bool = True, retire: bool = True) -> None:
    """The seed's old namespace (appa and servicea retired unless told), and a new one migrating from it."""
    manifests = seed.old_namespace(old)
    if not consent:
        manifests[0] = seed.namespace(old)
    if retire:
        manifests = [m for m in manifests if m["metadata"]["name"] not in ("appa", "servicea")]
    apply_all(kube, [*manifests, seed.new_namespace(new, old=old)])


def env_of(obj: JsonObject) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in obj["spec"]["template"]["spec"]["containers"][0].get("env", [])}


def with_proxy(kube: Kube, old: str, new: str, *callers: JsonObject) -> None:
    """The seed with appa moved to ``new``, so ``old`` holds the proxy servicea; plus extra callers."""
    migrating(kube, old, new)
    apply_all(kube, list(callers))
    apply_all(kube, seed.app("a", new))
    assert kube.get("Service", old, "servicea") is not None


def refused(kube: Kube, namespace: str, *, dry_run: bool = False) -> ApiError:
    with pytest.raises(ApiError) as raised:
        kube.delete("Service", namespace, "servicea", dry_run=dry_run)
    assert raised.value.status == 403
    return raised.value


def events_on(kube: Kube, namespace: str, reason: str) -> list[JsonObject]:
    return [event for event in kube.list_all("Event", namespace) if event.get("reason") == reason]


def available(kube: Kube, namespace: str, name: str) -> bool:
    found = kube.get("Deployment", namespace, name) or {}
    return any(
        c["type"] == "Available" and c["status"] == "True" for c in found.get("status", {}).get("conditions", [])
    )


def mirrored(kube: Kube, namespace: str, name: str) -> bool:
    """Handed over and serving from the new side alone: no selector, our slices only, with endpoints."""
    service = kube.get("Service", namespace, name) or {"metadata": {}}
    annotations = service["metadata"].get("annotations") or {}
    if service.get("spec", {}).get("selector") or labels.ORIGINAL_SPEC not in annotations:
        return False
    managers = {
        piece["metadata"]["labels"].get(labels.SLICE_MANAGED_BY)
        for piece in kube.list_labelled("EndpointSlice", namespace, f"{labels.SERVICE_NAME}={name}")
    }
    return managers == {labels.SLICE_MANAGER} and bool(slice_addresses(kube, namespace, name))


def slice_addresses(kube: Kube, namespace: str, service: str, *, manager: str | None = None) -> set[str]:
    """The ready endpoint addresses of a Service's EndpointSlices (of one manager, if given)."""
    found = set()
    for piece in kube.list_labelled("EndpointSlice", namespace, f"{labels.SERVICE_NAME}={service}"):
        if manager and piece["metadata"]["labels"].get(labels.SLICE_MANAGED_BY) != manager:
            continue
        for endpoint in piece.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") is not False:
                found.update(endpoint["addresses"])
    return found


def ready_pod_ips(kube: Kube, namespaces: list[str]) -> set[str]:
    """The IPs of the pods that are Ready now."""
    found = set()
    for namespace in namespaces:
        for pod in kube.list_all("Pod", namespace):
            status = pod.get("status") or {}
            conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
            if conditions.get("Ready") == "True" and status.get("podIP"):
                found.add(status["podIP"])
    return found
