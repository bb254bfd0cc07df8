"""The HTTP layer: decode, decide, respond. It builds no policy and no response body of its own."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from webhook.core import clientauth, logs, review
from webhook.core.admission import AdmissionHandler, Handler, failure_answer
from webhook.core.cluster import Cluster
from webhook.core.settings import Settings
from webhook.http.events import EventRecorder
from webhook.http.metrics import IN_ADMISSION, Metrics


def create_app(
    settings: Settings,
    cluster: Cluster,
    *,
    metrics: Metrics | None = None,
    recorder: EventRecorder | None = None,
    ready: Callable[[], bool] = lambda: True,
) -> Flask:
    """The webhook application; nothing is read from the environment here."""
    app = Flask("nsmigrate")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    metrics = metrics or Metrics()
    recorder = recorder or EventRecorder(cluster.record_event)
    handler = AdmissionHandler(settings, cluster, hooks=metrics, emit=recorder.emit)
    app.extensions["nsmigrate.settings"] = settings
    app.extensions["nsmigrate.metrics"] = metrics
    for name in ("mutate", "validate"):
        add_admission_endpoint(app, name, handler)
    app.extensions["nsmigrate.events"] = recorder
    app.add_url_rule("/healthz", "healthz", lambda: ("ok\n", 200, {"Content-Type": "text/plain"}))
    app.add_url_rule(
        "/readyz",
        "readyz",
        lambda: (
            ("ok\n", 200, {"Content-Type": "text/plain"})
            if ready()
            else ("not ready: the watch cache has not synced\n", 503, {"Content-Type": "text/plain"})
        ),
    )
    app.add_url_rule(
        "/metrics", "metrics", lambda: (metrics.render(), 200, {"Content-Type": "text/plain; version=0.0.4"})
    )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int, dict[str, str]]:
        """Every HTTP-level error (400, 404, 405, 413, ...) as one plain line, never an HTML page."""
        if error.code in (400, 413):
            metrics.bad_requests.labels(endpoint=request.path, code=str(error.code)).inc()
        return f"{error.name}: {error.description}\n", error.code or 500, {"Content-Type": "text/plain"}

    return app


def add_admission_endpoint(app: Flask, name: str, handler: Handler) -> None:
    """``POST /<name>``: client check, decode, ``handler.handle``, encode. Any handler plugs in here (the
    benchmark's no-op too), so every endpoint pays the same transport costs."""
    settings: Settings = app.extensions["nsmigrate.settings"]
    metrics: Metrics = app.extensions["nsmigrate.metrics"]

    def handle() -> Response | tuple[str, int, dict[str, str]]:
        if settings.client_verification:  # before the body is read: no decision, no side effect, no log
            refusal = clientauth.refusal(peer_certificate(request.environ), allowed=settings.client_subject_names)
            if refusal:
                metrics.refused.labels(reason=refusal).inc()
                return f"Forbidden: {REFUSALS[refusal]}\n", 403, {"Content-Type": "text/plain"}
        try:
            admission = review.decode(request.get_data(cache=False))
        except review.BadReview as error:
            metrics.bad_requests.labels(endpoint=f"/{name}", code="400").inc()
            return f"bad AdmissionReview: {error}\n", 400, {"Content-Type": "text/plain"}
        started = time.perf_counter()
        token = IN_ADMISSION.set(True)
        try:
            answer = handler.handle(name, admission)
            outcome = "patched" if answer.patch else ("allowed" if answer.allowed else "denied")
        except Exception:  # an error of nsmigrate's own: the failure policy decides, never a 500
            logging.getLogger(logs.LOGGER).exception("cannot decide review %s", admission["uid"])
            metrics.internal_errors.labels(endpoint=name).inc()
            answer, outcome = failure_answer(settings, admission["uid"]), "error"
        finally:
            IN_ADMISSION.reset(token)
        metrics.duration.labels(endpoint=name).observe(time.perf_counter() - started)
        metrics.requests.labels(endpoint=name, outcome=outcome).inc()
        return jsonify(review.encode(admission["uid"], answer))

    app.add_url_rule(f"/{name}", name, handle, methods=["POST"])


PEER_SOCKET = "gunicorn.socket"
"""The WSGI environ key of the client's connection (an ``ssl.SSLSocket`` under TLS), as gunicorn sets it."""

REFUSALS: dict[clientauth.Refusal, str] = {
    "no-certificate": "only the API server is heard here: present its client certificate",
    "subject-not-allowed": "this client certificate's subject is not an allowed name",
}


def peer_certificate(environ: dict[str, Any]) -> clientauth.PeerCertificate | None:
    """The client's verified certificate, None when it presented none (or the connection is not TLS)."""
    connection = environ.get(PEER_SOCKET)
    getpeercert = getattr(connection, "getpeercert", None)
    return getpeercert() if callable(getpeercert) else None
