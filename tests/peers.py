"""Callers of the Flask app as the TLS layer presents them: gunicorn's socket in the WSGI environ,
whose ``getpeercert()`` is the client certificate it verified (None: none presented)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from webhook.core.clientauth import API_SERVER_CLIENT_NAME
from webhook.http.app import PEER_SOCKET


class Peer:
    def __init__(self, certificate: dict[str, Any] | None) -> None:
        self.certificate = certificate

    def getpeercert(self) -> dict[str, Any] | None:
        return self.certificate


def certificate(common_name: str, *, dns_names: tuple[str, ...] = ()) -> dict[str, Any]:
    """A verified certificate in the shape ``ssl.SSLSocket.getpeercert()`` returns."""
    return {
        "subject": ((("organizationName", "system:masters"),), (("commonName", common_name),)),
        "subjectAltName": tuple(("DNS", name) for name in dns_names),
    }


API_SERVER = Peer(certificate(API_SERVER_CLIENT_NAME))


def client_as(app: Flask, peer: Peer | None = API_SERVER) -> FlaskClient:
    """A test client whose every request comes from ``peer`` (the API server by default; None: no TLS)."""
    client = app.test_client()
    if peer is not None:
        client.environ_base[PEER_SOCKET] = peer  # type: ignore[assignment]  # the WSGI environ holds any object
    return client
