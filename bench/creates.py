"""Deployment CREATE through the API server, under each admission setup in turn, in alternating batches.

- ``none``: into a plain namespace, no webhook is called;
- ``noop``: the floor, a webhook answering "allowed" with no patch (``/noop`` of the bench server),
  registered exactly as nsmigrate's mutating webhook is: the chart's registration, only its name and
  path changed (same rules, selectors, TLS, client certificate, timeout);
- ``nsmigrate``: the chart's registration calling ``/mutate`` of the same server; a typical first
  deploy (five short names of old-namespace Services: confirmed by GETs, rewritten) and, in the same
  batch, ``nsmigrate_qualified``, the same Deployment with its names already qualified (no GET, no
  patch): the difference between the two is what confirmation and patching cost;
- ``kyverno``: the peer with its equivalent policy (bench/peer.py), when it runs.

One registration at a time: before each batch the others are removed, and a dry-run probe shows the
API server calls the one expected and none other (registrations are picked up asynchronously).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench import reviews
from webhook.core.fields import JsonObject
from webhook.core.settings import Settings
from webhook.dev import registration, seed
from webhook.kube.client import ApiError, Kube

NOOP_NAME = f"{registration.NAME}-noop"
NOOP_REQUESTS = ("nsmigrate_admission_requests_total", {"endpoint": "noop", "outcome": "allowed"})


def mutating_registrations(*, url: str, ca_bundle: bytes, settings: Settings) -> dict[str, JsonObject]:
    """nsmigrate's mutating registration as the chart renders it for ``url``, and the floor's: the same
    object with another name and the path ``/noop``."""
    mutating = registration.configurations(url=url, ca_bundle=ca_bundle, settings=settings)[0]
    noop = copy.deepcopy(mutating)
    noop["metadata"]["name"] = NOOP_NAME
    for hook in noop["webhooks"]:
        hook["clientConfig"]["url"] = hook["clientConfig"]["url"].removesuffix("/mutate") + "/noop"
    return {"nsmigrate": mutating, "noop": noop}


def qualified_deployment(namespace: str, old: str, *, name: str) -> JsonObject:
    """The typical Deployment with its names already qualified: nothing to confirm, nothing to rewrite."""
    deployment = reviews.typical_deployment(namespace, old, name=name)
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        for entry in container["env"]:
            for n in range(5):
                entry["value"] = entry["value"].replace(f"//svc{n}:", f"//svc{n}.{old}.svc.cluster.local:")
    return deployment


@dataclass
class Setup:
    """One way of admitting the CREATE: the namespace it goes to and how to tell it is in force."""

    name: str
    namespace: str
    registration: JsonObject | None = None
    endpoint: str = ""
    """The bench server's endpoint it calls, if any (for the server-side figures)."""
    in_force: Callable[[Kube, JsonObject], bool] = lambda kube, probe: True
    after_batch: Callable[[], object] = lambda: None
    """Run after each batch (the peer drains its queue of generate requests: the next batch is not to
    share the cores with it)."""


@dataclass
class Timings:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    server: dict[str, list[float]] = field(default_factory=dict)
    """Per series: the webhook's own time per review (its histogram's sum over count, per batch), s."""
    reads: dict[str, float] = field(default_factory=dict)
    """Per series: API reads the webhook made during these admissions, per CREATE."""
    switches: list[float] = field(default_factory=list)

    def add(self, series: str, latency: float) -> None:
        self.latencies.setdefault(series, []).append(latency)


class Creates:
    def __init__(
        self, kube: Kube, setups: Sequence[Setup], *, old: str, metrics: Callable[[str], dict[str, float]]
    ) -> None:
        self.kube = kube
        self.setups = list(setups)
        self.old = old
        self.metrics = metrics
        """The bench server's figures for an endpoint: reviews answered ("count"), seconds spent on them
        ("sum") and API reads made during admissions ("reads")."""
        self.serial = 0

    def activate(self, setup: Setup, *, timeout: float = 30.0) -> float:
        """Remove every other registration, apply this one, return once the API server shows it."""
        started = time.monotonic()
        for other in self.setups:
            if other.registration is not None and other is not setup:
                try:
                    self.kube.delete("MutatingWebhookConfiguration", None, other.registration["metadata"]["name"])
                except ApiError as error:
                    if error.status != 404:
                        raise
        if setup.registration is not None:
            self.kube.apply(setup.registration)
        probe = reviews.typical_deployment(setup.namespace, self.old, name="probe")
        while not setup.in_force(self.kube, probe):
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"the API server did not switch to {setup.name} in {timeout:.0f} s")
            time.sleep(0.05)
        return time.monotonic() - started

    def create(self, manifest: JsonObject) -> float:
        started = time.perf_counter()
        self.kube.create(manifest)
        return time.perf_counter() - started

    def batch(self, setup: Setup, count: int, timings: Timings | None) -> None:
        """``count`` CREATEs (nsmigrate: as many qualified ones after them), recorded unless warming up."""
        series: list[tuple[str, Callable[..., JsonObject]]] = [(setup.name, reviews.typical_deployment)]
        if setup.name == "nsmigrate":
            series.append(("nsmigrate_qualified", qualified_deployment))
        for name, manifest in series:
            before = self.metrics(setup.endpoint)
            latencies = []
            for _ in range(count):
                self.serial += 1
                latencies.append(self.create(manifest(setup.namespace, self.old, name=f"create-{self.serial}")))
            after = self.metrics(setup.endpoint)
            if timings is None:
                continue
            for latency in latencies:
                timings.add(name, latency)
            reviews_answered = after["count"] - before["count"]
            if reviews_answered:
                timings.server.setdefault(name, []).append((after["sum"] - before["sum"]) / reviews_answered)
            timings.reads[name] = timings.reads.get(name, 0.0) + (after["reads"] - before["reads"]) / count
        setup.after_batch()

    def run(self, *, rounds: int, batch: int) -> Timings:
        """One warm-up batch per setup, then ``rounds`` rounds of one batch per setup."""
        timings = Timings()
        for setup in self.setups:
            self.activate(setup)
            self.batch(setup, max(3, batch // 4), None)
        for _ in range(rounds):
            for setup in self.setups:
                timings.switches.append(self.activate(setup))
                self.batch(setup, batch, timings)
        for series, reads in timings.reads.items():
            timings.reads[series] = reads / rounds
        return timings


def proxy_delays(
    kube: Kube,
    setup: Setup,
    *,
    old: str,
    count: int,
    services_seen: Callable[[], None] = lambda: None,
    timeout: float = 180.0,
) -> list[float]:
    """Seconds from the end of a CREATE to the moment its ExternalName proxy exists in ``old``, for
    ``count`` Deployments each behind a Service of its name created before, which a workload of ``old``
    calls (nsmigrate makes proxies for callers only); 0: before the response. ``services_seen()``
    returns once the webhook has seen those Services and callers."""
    names = [f"px-{setup.name}-{n}" for n in range(count)]
    for name in names:
        kube.create(seed.service(name, setup.namespace, name))
        kube.create(seed.deployment(f"caller-{name}", old, {"PEER_URL": f"http://{name}/"}))
    services_seen()
    returned: dict[str, float] = {}
    delays: dict[str, float] = {}
    for name in names:
        kube.create(reviews.typical_deployment(setup.namespace, old, name=name))
        returned[name] = time.monotonic()
        if _is_proxy(kube.get("Service", old, name)):
            delays[name] = 0.0
    deadline = time.monotonic() + timeout
    while len(delays) < len(names) and time.monotonic() < deadline:
        for name in names:
            if name not in delays and _is_proxy(kube.get("Service", old, name)):
                delays[name] = time.monotonic() - returned[name]
        time.sleep(0.05)
    return [delays.get(name, float("inf")) for name in names]


def _is_proxy(service: Any) -> bool:
    return isinstance(service, dict) and service.get("spec", {}).get("type") == "ExternalName"
