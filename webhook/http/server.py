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

from webhook.core.settings import Settings
from webhook.http.tls import ReloadingContext


def gunicorn_options(settings: Settings, tls: ReloadingContext) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": 1,
        "worker_class": "webhook.http.worker.Worker",  # gthread, sparing threads idle TLS connections
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
    """gunicorn serving the app ``app_factory`` builds, in the worker process."""

    def __init__(self, settings: Settings, app_factory: Callable[[], Flask]) -> None:
        self.settings = settings
        self.app_factory = app_factory
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
