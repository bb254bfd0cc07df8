"""The webhook server as the API server meets it: TLS 1.2+, kept-alive connections, plain errors."""

from __future__ import annotations

import http.client
import json
import ssl
from pathlib import Path

import pytest

from tests.e2e.helpers import api_server_tls
from tests.reviews import review
from webhook.dev import seed
from webhook.dev.controlplane import ControlPlane, ControlPlaneError, find_binaries
from webhook.dev.environment import DevEnvironment

pytestmark = pytest.mark.e2e


def tls(dev: DevEnvironment, **versions: ssl.TLSVersion) -> ssl.SSLContext:
    context = api_server_tls(dev)
    for name, version in versions.items():
        setattr(context, name, version)
    return context


def get_healthz(dev: DevEnvironment, context: ssl.SSLContext) -> int:
    connection = http.client.HTTPSConnection("127.0.0.1", dev.webhook_port, context=context, timeout=5)
    connection.request("GET", "/healthz")
    return connection.getresponse().status


def test_tls_1_2_is_accepted(dev: DevEnvironment) -> None:
    assert get_healthz(dev, tls(dev, maximum_version=ssl.TLSVersion.TLSv1_2)) == 200


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_older_than_1_2_is_refused_by_the_server(dev: DevEnvironment) -> None:
    context = tls(dev, minimum_version=ssl.TLSVersion.TLSv1, maximum_version=ssl.TLSVersion.TLSv1_1)
    context.set_ciphers("ALL:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError, match=r"PROTOCOL_VERSION|protocol version|UNSUPPORTED_PROTOCOL|EOF"):
        get_healthz(dev, context)


def test_connections_are_kept_alive_across_reviews(dev: DevEnvironment) -> None:
    connection = http.client.HTTPSConnection("127.0.0.1", dev.webhook_port, context=tls(dev), timeout=5)
    body = json.dumps(review(seed.deployment("x", "default", {}))).encode()
    sockets = []
    for _ in range(3):
        connection.request("POST", "/mutate", body=body, headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        assert answer.status == 200
        answer.read()
        sockets.append(connection.sock)
    assert sockets[0] is not None
    assert sockets.count(sockets[0]) == 3
    connection.close()


def test_oversized_body_is_a_413_over_the_wire(dev: DevEnvironment) -> None:
    connection = http.client.HTTPSConnection("127.0.0.1", dev.webhook_port, context=tls(dev), timeout=10)
    connection.putrequest("POST", "/mutate")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(8 * 1024 * 1024 + 1))
    connection.endheaders()  # the server answers from the declared length, before any body is sent
    answer = connection.getresponse()
    assert answer.status == 413
    assert answer.read().decode().count("\n") == 1


def test_a_control_plane_that_fails_to_start_leaves_nothing_running(tmp_path: Path) -> None:
    binaries = dict(find_binaries())
    binaries["kube-apiserver"] = Path("/bin/false")  # exits at once
    plane = ControlPlane(tmp_path)
    with pytest.raises(ControlPlaneError, match="kube-apiserver exited during start-up"):
        plane.start(binaries)
    assert plane.pids == {}
