"""Mirror lag: from a change of a new-side EndpointSlice to the old Service's mirrored slice showing it.

``services`` old Services are handed over (as ``nsmigrate handover`` does) to new Services whose
slices the benchmark writes itself (the bare control plane runs no endpoint controller): that is
pod churn as the mirror sees it. Each change gives one endpoint of one Service a fresh address, at
``rate`` changes per second across the Services; a watch on the old namespace's slices sees when
the mirror has written it.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.core.objects import service_from_object
from webhook.dev import seed
from webhook.kube import workflows
from webhook.kube.client import Kube
from webhook.kube.live import KubeCluster

OLD, NEW = "mirror-old", "mirror-new"
SLICES = "/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"


def new_slice(name: str, number: int, address: str) -> JsonObject:
    """The new Service's slice: two ready endpoints, the second one's address is what changes."""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{name}-pods",
            "namespace": NEW,
            "labels": {labels.SERVICE_NAME: name, labels.SLICE_MANAGED_BY: "bench.nsmigrate.io"},
        },
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [
            {"addresses": [f"10.1.{number // 250}.{number % 250 + 1}"], "conditions": {"ready": True}},
            {"addresses": [address], "conditions": {"ready": True}},
        ],
    }


def churn_address(change: int) -> str:
    return f"10.2.{change // 250}.{change % 250 + 1}"


class Watcher:
    """Records when each address first appears in a mirrored slice of the old namespace."""

    def __init__(self, kube: Kube, resource_version: str) -> None:
        self.kube = kube
        self.resource_version = resource_version
        self.seen: dict[str, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.follow()
            except Exception:  # the control plane going down at the end, or a dropped watch: resume or stop
                time.sleep(0.1)

    def follow(self) -> None:
        for event in self.kube.watch("EndpointSlice", resource_version=self.resource_version, timeout_seconds=60):
            obj: Any = event.get("object") or {}
            metadata = obj.get("metadata") or {}
            self.resource_version = metadata.get("resourceVersion", self.resource_version)
            if metadata.get("namespace") != OLD or event.get("type") == "DELETED":
                continue
            now = time.monotonic()
            for endpoint in obj.get("endpoints") or ():
                for address in endpoint.get("addresses") or ():
                    self.seen.setdefault(address, now)
            if self.stop.is_set():
                return


def mirrored_count(kube: Kube) -> int:
    query = [("labelSelector", f"{labels.SLICE_MANAGED_BY}={labels.SLICE_MANAGER}")]
    return len(kube.request("GET", SLICES.format(namespace=OLD), query=query).body.get("items") or [])


def measure(kube: Kube, *, services: int, changes: int, rate: float, timeout: float = 600.0) -> list[float]:
    """Seconds from each slice change to its mirror (inf: not mirrored in ``timeout``)."""
    kube.apply(seed.namespace(OLD, {labels.SOURCE: "true"}))
    kube.apply(seed.namespace(NEW, {labels.MIGRATE_FROM: OLD, labels.HANDOVER: "manual"}))
    names = [f"m{n}" for n in range(services)]
    cluster = KubeCluster(kube)

    def prepare(number: int) -> None:
        name = names[number]
        kube.create(seed.service(name, OLD, name))
        target = kube.create(seed.service(name, NEW, name)).body
        kube.create(new_slice(name, number, f"10.3.{number // 250}.{number % 250 + 1}"))
        workflows.hand_over(cluster, OLD, name, target=service_from_object(target))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(prepare, range(services)))
    deadline = time.monotonic() + timeout
    while mirrored_count(kube) < services:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {mirrored_count(kube)} of {services} Services mirrored in {timeout:.0f} s")
        time.sleep(1.0)
    listed = kube.request("GET", SLICES.format(namespace=OLD), query=[("limit", "1")]).body
    watcher = Watcher(kube, listed["metadata"]["resourceVersion"])
    watcher.thread.start()
    changed: dict[str, float] = {}
    started = time.monotonic()
    for change in range(changes):
        due = started + change / rate
        if (wait := due - time.monotonic()) > 0:
            time.sleep(wait)
        number = change * 7919 % services  # spread over the Services
        address = churn_address(change)
        body = new_slice(names[number], number, address)
        changed[address] = time.monotonic()
        kube.apply(body)
    deadline = time.monotonic() + 60
    while any(address not in watcher.seen for address in changed) and time.monotonic() < deadline:
        time.sleep(0.1)
    watcher.stop.set()
    return [watcher.seen.get(address, float("inf")) - at for address, at in changed.items()]
