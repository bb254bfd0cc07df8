"""Shared end-to-end helpers: waiting for asynchronous effects, reading the webhook's metrics."""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

from webhook.core.waiting import poll_until
from webhook.dev.environment import DevEnvironment

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
