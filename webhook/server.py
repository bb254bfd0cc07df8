"""``nsmigrate serve``: the Flask app behind gunicorn, over TLS 1.2+, with keep-alive connections.

One worker process with threads: the API server keeps few, long-lived connections to a webhook, the
work per review is short, and one process keeps one set of API watches however many threads serve.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from webhook import logs
from webhook.app import create_app
from webhook.kube import Kube, KubeCluster
from webhook.settings import Settings


def tls_context(config: Any, default_ssl_context_factory: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """gunicorn's TLS context, refusing anything older than TLS 1.2."""
    context = default_ssl_context_factory()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": settings.threads,
        # The API server reuses connections for many reviews; closing them costs a TLS handshake each.
        "keepalive": settings.keepalive_seconds,
        "certfile": settings.cert_file,
        "keyfile": settings.key_file,
        "ssl_context": tls_context,
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
        super().__init__()

    def load_config(self) -> None:
        for key, value in gunicorn_options(self.settings).items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.app_factory()


def default_app(settings: Settings) -> Flask:
    """The app wired to the real API server, built in the worker process."""
    logs.configure(settings.log_level)
    kube = Kube.connect(settings.kubeconfig, timeout=settings.api_timeout_seconds)
    return create_app(settings, KubeCluster(kube))


def serve(settings: Settings) -> None:
    WebhookServer(settings).run()
