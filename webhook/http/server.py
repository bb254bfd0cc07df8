"""``nsmigrate serve``: the Flask app behind gunicorn, over TLS 1.2+, with keep-alive connections.

One worker process with threads: the API server keeps few, long-lived connections to a webhook, the
work per review is short, and one process keeps one set of API watches however many threads serve.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from webhook.core import logs, report
from webhook.core.mirror import NOTE_REASONS, SliceAction
from webhook.core.settings import Settings
from webhook.http.app import create_app
from webhook.http.metrics import Metrics
from webhook.http.tls import ReloadingContext
from webhook.kube import watch
from webhook.kube.cache import KINDS, Cache
from webhook.kube.client import Kube, KubeCluster
from webhook.kube.lease import LeaderElector
from webhook.kube.mirror import Mirror
from webhook.kube.reconciler import Reconciler, writer
from webhook.kube.rotation import CertificateKeeper, Policy


def gunicorn_options(settings: Settings, tls: ReloadingContext) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": settings.threads,
        # The API server reuses connections for many reviews; closing them costs a TLS handshake each.
        "keepalive": settings.keepalive_seconds,
        "certfile": settings.cert_file,
        "keyfile": settings.key_file,
        "ssl_context": tls,
        "timeout": 30,
        "graceful_timeout": 20,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        "proc_name": "nsmigrate",
    }


class WebhookServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, app_factory: Callable[[], Flask] | None = None) -> None:
        self.settings = settings
        self.app_factory = app_factory or (lambda: default_app(settings))
        client_ca_file = settings.client_ca_file if settings.client_verification else ""
        self.tls = ReloadingContext(settings.cert_file, settings.key_file, client_ca_file=client_ca_file)
        super().__init__()

    def load_config(self) -> None:
        for key, value in gunicorn_options(self.settings, self.tls).items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        app = self.app_factory()
        self.tls.on_untrusted = app.extensions["nsmigrate.metrics"].count_untrusted_handshake
        return app


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
    reconciler = Reconciler(
        cache,
        settings,
        write=writer(live, timeout=settings.api_timeout_seconds, cluster_domain=settings.cluster_domain),
        is_leader=lambda: cache.synced and elector.leader,
        on_pass=metrics.reconcile_passes.inc,
    )
    cache.on_change(reconciler.nudge)
    mirror = mirror_controller(settings, cache, live, metrics, is_leader=lambda: cache.synced and elector.leader)
    cache.on_change(mirror.nudge)
    for name, target in (("lease", elector.run), ("reconciler", reconciler.run), ("mirror", mirror.run)):
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
    return create_app(settings, cache, metrics=metrics, ready=lambda: cache.synced)


def mirror_controller(
    settings: Settings, cache: Cache, live: KubeCluster, metrics: Metrics, *, is_leader: Callable[[], bool]
) -> Mirror:
    """The EndpointSlice mirror of handed-over Services, its writes and warnings counted in ``metrics``."""

    def write(action: SliceAction) -> None:
        live.write_slice(action)
        metrics.slice_writes.labels(verb=action.verb).inc()

    mirror = Mirror(cache, settings, write=write, record_event=live.record_event, is_leader=is_leader)
    metrics.mirrored.set_function(lambda: float(mirror.stats.mirrored))
    for kind in NOTE_REASONS:

        def count(kind: str = kind) -> float:
            return float(mirror.stats.notes.get(kind, 0))

        metrics.handover_warnings.labels(kind=kind).set_function(count)
    return mirror


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


def check_client_verification(settings: Settings) -> None:
    """Refuse to start with client verification on but no readable client CA."""
    if not settings.client_verification:
        return
    if not settings.client_ca_file:
        raise ValueError(
            "client verification is on but NSMIGRATE_CLIENT_CA_FILE is not set: give the CA that signs the API"
            " server's client certificate, or set NSMIGRATE_CLIENT_VERIFICATION=false behind a NetworkPolicy"
        )
    try:
        ssl.create_default_context(cafile=settings.client_ca_file)
    except (OSError, ssl.SSLError) as error:
        raise ValueError(f"client CA {settings.client_ca_file} cannot be loaded: {error}") from None


def serve(settings: Settings) -> None:
    check_client_verification(settings)
    if settings.cert_secret:  # the certificate files must exist before gunicorn starts: it checks them
        certificate_keeper(settings, Kube.connect(settings.kubeconfig, timeout=settings.api_timeout_seconds))
    WebhookServer(settings).run()
