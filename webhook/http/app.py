"""The HTTP layer: decode, decide, respond. It builds no policy and no response body of its own."""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from webhook.core import audit, clientauth, logs, review
from webhook.core.cluster import Cluster
from webhook.core.configmaps import admit_configmap
from webhook.core.mutation import admit_workload
from webhook.core.settings import Settings
from webhook.core.validation import decide_deletion
from webhook.http.metrics import IN_ADMISSION, Metrics
from webhook.kube.events import EventRecorder

Decide = Callable[[review.AdmissionRequest], review.Response]


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

    def mutate(admission: review.AdmissionRequest) -> review.Response:
        admit = admit_configmap if admission["kind"]["kind"] == "ConfigMap" else admit_workload
        result = admit(admission, cluster, settings)
        metrics.rewrites.inc(len(result.plan.rewrites))
        metrics.proxies_created.inc(len(result.created))
        metrics.proxy_failures.inc(len(result.failed))
        if result.plan.rewrites or result.created or result.failed:
            logs.event(
                "workload_mutated",
                uid=admission["uid"],
                workload=f"{admission.get('namespace', '')}/{admission.get('name', '')}",
                kind=admission["kind"]["kind"],
                operation=admission["operation"],
                dryRun=bool(admission.get("dryRun")),
                rewrites=[rewrite.record() for rewrite in result.plan.rewrites],
                proxiesCreated=result.created,
                proxiesFailed=result.failed,
            )
        return result.response

    def validate(admission: review.AdmissionRequest) -> review.Response:
        decision = decide_deletion(admission, cluster, settings)
        answer = review.allowed() if decision.allowed else review.denied(decision.message())
        if not audit.is_audited(decision):
            return answer
        namespace = decision.proxy.partition("/")[0]
        counter = metrics.deletions_denied if decision.verdict == "denied" else metrics.deletions_forced
        counter.labels(namespace=namespace).inc()
        logs.event(audit.LOG_EVENTS[decision.verdict], level=logging.WARNING, **audit.log_fields(decision, admission))
        recorder.emit(audit.event_manifest(decision, admission, now=datetime.datetime.now(datetime.UTC)))
        return review.with_audit(answer, audit.audit_annotations(decision))

    app.add_url_rule("/mutate", "mutate", _endpoint("mutate", mutate, settings, metrics), methods=["POST"])
    app.add_url_rule("/validate", "validate", _endpoint("validate", validate, settings, metrics), methods=["POST"])
    app.extensions["nsmigrate.events"] = recorder
    app.extensions["nsmigrate.metrics"] = metrics
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


def _endpoint(
    name: str, decide: Decide, settings: Settings, metrics: Metrics
) -> Callable[[], Response | tuple[str, int, dict[str, str]]]:
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
            answer = decide(admission)
            outcome = "patched" if answer.patch else ("allowed" if answer.allowed else "denied")
        except Exception:  # an error of nsmigrate's own: the failure policy decides, never a 500
            logging.getLogger(logs.LOGGER).exception("cannot decide review %s", admission["uid"])
            metrics.internal_errors.labels(endpoint=name).inc()
            answer, outcome = _failure(settings, admission["uid"]), "error"
        finally:
            IN_ADMISSION.reset(token)
        metrics.duration.labels(endpoint=name).observe(time.perf_counter() - started)
        metrics.requests.labels(endpoint=name, outcome=outcome).inc()
        return jsonify(review.encode(admission["uid"], answer))

    handle.__name__ = name
    return handle


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


def _failure(settings: Settings, uid: str) -> review.Response:
    """Answer for a review nsmigrate failed to decide: what its failure policy would do."""
    if settings.failure_policy == "Ignore":
        return review.allowed(warnings=[f"internal error, admitted unchanged (review {uid}; see webhook logs)"])
    return review.errored(
        f"nsmigrate could not process this object (review {uid}); nothing was changed, retry or see the webhook logs"
    )
