"""The gunicorn worker: spare TLS connections the API server dials and keeps idle hold no thread."""

from __future__ import annotations

import socket
import ssl
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from webhook.core import certs
from webhook.core.waiting import poll_until
from webhook.dev.processes import free_port, log_tail, start_process, stop_pid


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The smallest WSGI app: what gunicorn serves in these tests."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, ssl.SSLContext]]:
    """gunicorn with nsmigrate's worker and ONE thread, over TLS: its port and a client context."""
    ca = certs.make_ca("test-ca")
    certs.make_serving_cert(ca, dns_names=["localhost"]).write(tmp_path, "tls")
    port = free_port()
    args = [sys.executable, "-m", "gunicorn", "--worker-class", "webhook.http.worker.Worker", "--threads", "1",
            "--keep-alive", "30", "--certfile", str(tmp_path / "tls.crt"), "--keyfile", str(tmp_path / "tls.key"),
            "--bind", f"127.0.0.1:{port}", "tests.test_worker:app"]  # fmt: skip
    log = tmp_path / "gunicorn.log"
    process = start_process(args, log)
    try:
        try:
            poll_until(lambda: _listening(port), timeout=30, interval=0.1)
        except TimeoutError:
            pytest.fail(f"gunicorn did not listen in 30 s:\n{log_tail(log)}")
        yield port, ssl.create_default_context(cadata=ca.cert_pem.decode())
    finally:
        stop_pid(process.pid)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _connect(port: int, context: ssl.SSLContext, stack: ExitStack) -> ssl.SSLSocket:
    raw = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
    return stack.enter_context(context.wrap_socket(raw, server_hostname="localhost"))  # handshaken


def _get(connection: ssl.SSLSocket) -> bytes:
    connection.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    return connection.recv(4096)


def test_idle_handshaken_connections_leave_the_thread_to_requests(served: tuple[int, ssl.SSLContext]) -> None:
    """Three connections handshake and send nothing (as the API server's spare dials do); a fourth sends a
    request and is answered within the socket timeout. gthread alone would block its one thread on the
    first idle connection, and this request would time out."""
    port, context = served
    with ExitStack() as stack:
        idle = [_connect(port, context, stack) for _ in range(3)]
        assert _get(_connect(port, context, stack)).startswith(b"HTTP/1.1 200")
        assert all(_get(connection).startswith(b"HTTP/1.1 200") for connection in idle)  # served when they ask
