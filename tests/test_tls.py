"""The serving TLS layer with a client CA: certificates requested, verified, and untrusted ones counted."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest

from webhook.core import certs
from webhook.core.clientauth import API_SERVER_CLIENT_NAME
from webhook.http.tls import ReloadingContext


@pytest.fixture
def server(tmp_path: Path) -> tuple[ReloadingContext, certs.KeyPair, certs.KeyPair]:
    """A serving context with a client CA; the CAs of the server and of its clients."""
    server_ca, client_ca = certs.make_ca("server-ca"), certs.make_ca("client-ca")
    certs.make_serving_cert(server_ca, dns_names=["localhost"]).write(tmp_path, "tls")
    client_ca.write(tmp_path, "client-ca")
    context = ReloadingContext(
        str(tmp_path / "tls.crt"), str(tmp_path / "tls.key"), client_ca_file=str(tmp_path / "client-ca.crt")
    )
    return context, server_ca, client_ca


def handshake(
    tls: ReloadingContext, server_ca: certs.KeyPair, client: certs.KeyPair | None, tmp_path: Path
) -> dict[str, Any] | Exception | None:
    """One connection over a socket pair, handshaken as gunicorn does; the peer certificate the
    server sees, or the server's handshake error."""
    client_context = ssl.create_default_context(cadata=server_ca.cert_pem.decode())
    if client:
        client.write(tmp_path, "client")
        client_context.load_cert_chain(tmp_path / "client.crt", tmp_path / "client.key")
    near, far = socket.socketpair()
    outcome: list[Any] = []

    def serve() -> None:
        wrapped = tls().wrap_socket(near, server_side=True, do_handshake_on_connect=False)
        try:
            wrapped.do_handshake()
            outcome.append(wrapped.getpeercert())
            wrapped.sendall(b"x")
        except ssl.SSLError as error:
            outcome.append(error)
        finally:
            wrapped.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client_context.wrap_socket(far, server_hostname="localhost") as connection:
            connection.recv(1)
    except (ssl.SSLError, OSError):
        pass
    thread.join(timeout=10)
    return outcome[0] if outcome else None


def test_a_client_without_a_certificate_connects_and_presents_none(server: Any, tmp_path: Path) -> None:
    tls, server_ca, _ = server
    assert handshake(tls, server_ca, None, tmp_path) is None


def test_a_certificate_of_the_client_ca_is_verified_and_seen(server: Any, tmp_path: Path) -> None:
    tls, server_ca, client_ca = server
    seen = handshake(tls, server_ca, certs.make_client_cert(client_ca, user=API_SERVER_CLIENT_NAME), tmp_path)
    assert isinstance(seen, dict)
    assert (("commonName", API_SERVER_CLIENT_NAME),) in seen["subject"]


def test_a_certificate_of_another_ca_fails_the_handshake_and_is_counted(server: Any, tmp_path: Path) -> None:
    tls, server_ca, _ = server
    untrusted: list[int] = []
    tls.on_untrusted = lambda: untrusted.append(1)
    intruder = certs.make_client_cert(certs.make_ca("client-ca"), user=API_SERVER_CLIENT_NAME)
    outcome = handshake(tls, server_ca, intruder, tmp_path)
    assert isinstance(outcome, ssl.SSLError)
    assert outcome.reason == "CERTIFICATE_VERIFY_FAILED"
    assert untrusted == [1]


def test_without_a_client_ca_no_certificate_is_requested(tmp_path: Path) -> None:
    server_ca = certs.make_ca()
    certs.make_serving_cert(server_ca, dns_names=["localhost"]).write(tmp_path, "tls")
    context = ReloadingContext(str(tmp_path / "tls.crt"), str(tmp_path / "tls.key"))
    assert context().verify_mode == ssl.CERT_NONE
