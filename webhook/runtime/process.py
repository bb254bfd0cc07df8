"""The composition root of ``nsmigrate serve``: in the worker process, the watch cache, leader election,
the leader loops (reconciler, mirror), the certificate keeper and the app, wired to the API server."""

from __future__ import annotations

import atexit
import functools
import gc
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from webhook.core import logs, report
from webhook.core.mirror import NOTE_REASONS, MirrorAction
from webhook.core.settings import Settings
from webhook.http import server
from webhook.http.app import create_app
from webhook.http.metrics import Metrics
from webhook.kube import watch, workflows
from webhook.kube.cache import KINDS, Cache
from webhook.kube.client import Kube
from webhook.kube.lease import LeaderElector
from webhook.kube.live import KubeCluster
from webhook.kube.readiness import write_policy
from webhook.kube.rotation import CertificateKeeper, Policy
from webhook.runtime import controllers
from webhook.runtime.loop import LeaderLoop

if TYPE_CHECKING:
    from flask import Flask


def default_app(settings: Settings) -> Flask:
    """The app wired to the real API server, built in the worker process: watch cache, leader
    election and reconciler run as daemon threads beside the request threads."""
    logs.configure(settings.log_level)
    if not settings.client_verification:
        logs.event(
            "client_verification_disabled",
            level=logging.WARNING,
            message="/mutate and /validate answer any caller that reaches them: keep a NetworkPolicy in front",
        )
    metrics = Metrics()
    # Admissions wait on this client: one attempt per call, bounded by api_timeout_seconds.
    kube = Kube.connect(settings.kubeconfig, timeout=settings.api_timeout_seconds, retries=False)
    watching = Kube.connect(settings.kubeconfig, timeout=30, pool_size=len(KINDS) + 2)
    for client in (kube, watching):
        client.observers.append(metrics.count_api_request)
    live = KubeCluster(kube)
    cache = Cache(live)
    stop = threading.Event()
    if keeper := certificate_keeper(settings, kube):  # before the first connection: the files must exist
        every = {"every": settings.cert_check_seconds}
        threading.Thread(target=keeper.run, args=(stop,), kwargs=every, daemon=True).start()
    watch.start(cache, watching, stop)
    elector = LeaderElector(
        kube,
        namespace=settings.own_namespace,
        name=settings.lease_name,
        identity=f"{socket.gethostname()}-{os.getpid()}",
        lease_seconds=settings.lease_seconds,
    )
    leading = lambda: cache.synced and elector.leader  # noqa: E731
    reconciler = controllers.reconciler(
        cache,
        settings,
        write=functools.partial(workflows.write_action, live, timeout=settings.api_timeout_seconds),
        is_leader=leading,
        on_pass=metrics.reconcile_passes.inc,
    )
    mirror = mirror_loop(settings, cache, live, metrics, is_leader=leading)
    checks, planner = controllers.readiness(
        cache,
        settings,
        write=functools.partial(write_policy, kube),
        record_event=live.record_event,
        is_leader=leading,
    )
    metrics.findings.findings = lambda: planner.findings
    loops: dict[str, LeaderLoop[Any]] = {"reconciler": reconciler, "mirror": mirror, "readiness": checks}
    for loop in loops.values():
        cache.on_change(loop.nudge)
    for name, target in (("lease", elector.run), *((name, loop.run) for name, loop in loops.items())):
        threading.Thread(target=target, args=(stop,), name=name, daemon=True).start()
    threading.Thread(target=_freeze_after_sync, args=(cache, stop), name="gc-freeze", daemon=True).start()
    # A worker that stops hands the lease back at once: another replica reconciles without waiting it out.
    atexit.register(elector.release)
    atexit.register(stop.set)  # runs first: atexit calls in reverse order
    metrics.cache_synced.set_function(lambda: float(cache.synced))
    metrics.cache_objects.set_function(lambda: float(cache.size()))
    metrics.leader.set_function(lambda: float(elector.leader))
    metrics.follow_certificate(settings.cert_file)
    metrics.proxy_callers.statuses = lambda: report.proxy_statuses(cache, settings)
    metrics.fresh_reads.counts = lambda: dict(cache.fresh_kinds)
    return create_app(settings, cache, metrics=metrics, ready=lambda: cache.synced)


def mirror_loop(
    settings: Settings, cache: Cache, live: KubeCluster, metrics: Metrics, *, is_leader: Callable[[], bool]
) -> LeaderLoop[MirrorAction]:
    """The EndpointSlice mirror of handed-over Services, its writes and warnings counted in ``metrics``."""

    def write(action: MirrorAction) -> None:
        live.write_mirror(action)
        metrics.slice_writes.labels(verb=action.verb).inc()

    loop, mirror = controllers.mirror(cache, settings, write=write, record_event=live.record_event, is_leader=is_leader)
    metrics.mirrored.set_function(lambda: float(mirror.stats.mirrored))
    for kind in NOTE_REASONS:

        def count(kind: str = kind) -> float:
            return float(mirror.stats.notes.get(kind, 0))

        metrics.handover_warnings.labels(kind=kind).set_function(count)
    return loop


def _freeze_after_sync(cache: Cache, stop: threading.Event) -> None:
    """Once the cache holds the cluster, move it out of the garbage collector's sight: tens of thousands
    of long-lived records otherwise get rescanned by every full collection, a latency spike each time."""
    while not cache.synced:
        if stop.wait(0.5):
            return
    gc.collect()
    gc.freeze()


def certificate_keeper(settings: Settings, kube: Kube) -> CertificateKeeper | None:
    """In self-managed mode, the keeper of the serving certificate, which it has just made sure of."""
    if not settings.cert_secret:
        return None
    keeper = CertificateKeeper(
        kube,
        namespace=settings.own_namespace,
        secret=settings.cert_secret,
        webhook_configurations=[settings.webhook_configuration],
        cert_file=settings.cert_file,
        key_file=settings.key_file,
        policy=Policy(dns_names=settings.service_dns_names),
    )
    keeper.ensure()
    return keeper


def serve(settings: Settings) -> None:
    server.check_client_verification(settings)
    if settings.cert_secret:  # the certificate files must exist before gunicorn starts: it checks them
        certificate_keeper(settings, Kube.connect(settings.kubeconfig, timeout=settings.api_timeout_seconds))
    server.WebhookServer(settings, lambda: default_app(settings)).run()
