"""Self-managed certificates: made, injected, and rotated under load without a failed request."""

from __future__ import annotations

import base64
import dataclasses
import http.client
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from tests.e2e.conftest import SETTINGS
from tests.e2e.helpers import eventually
from tests.reviews import review
from webhook.dev import registration, seed
from webhook.dev.environment import DevEnvironment
from webhook.dev.processes import free_port, stop_pid
from webhook.kube.client import Kube
from webhook.kube.rotation import RENEW_ANNOTATION

pytestmark = pytest.mark.e2e
SECRET = "nsmigrate-rotation-tls"
CONFIGURATION = "nsmigrate-rotation"
HOSTNAME = "nsmigrate.nsmigrate.svc"


class ServiceConnection(http.client.HTTPSConnection):
    """HTTPS to a loopback port, verifying the certificate as the API server would: for the
    webhook Service's DNS name."""

    def connect(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=HOSTNAME)  # type: ignore[attr-defined]


def secret_data(kube: Kube) -> dict[str, bytes]:
    found = kube.request("GET", f"/api/v1/namespaces/nsmigrate/secrets/{SECRET}").body
    return {key: base64.b64decode(value) for key, value in found.get("data", {}).items()}


def serving_serial(port: int, cafile: Path) -> int:
    connection = ServiceConnection("localhost", port, context=ssl.create_default_context(cafile=str(cafile)), timeout=5)
    connection.connect()
    der = connection.sock.getpeercert(binary_form=True)
    connection.close()
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


class Load:
    """Reviews posted from three threads until stopped, a fresh connection (and handshake) every ten
    requests; counts the answers and the failures."""

    def __init__(self, port: int, cafile: Path, client: tuple[Path, Path]) -> None:
        self.port = port
        self.context = ssl.create_default_context(cafile=str(cafile))
        self.context.load_cert_chain(*client)  # as the API server: /mutate hears nobody else
        self.ok = 0
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.body = json.dumps(review(seed.deployment("x", "default", {}))).encode()
        self.threads = [threading.Thread(target=self.worker) for _ in range(3)]

    def worker(self) -> None:
        while not self.stop.is_set():
            connection = ServiceConnection("localhost", self.port, context=self.context, timeout=5)
            try:
                for _ in range(10):
                    connection.request("POST", "/mutate", body=self.body, headers={"Content-Type": "application/json"})
                    answer = connection.getresponse()
                    answer.read()
                    if answer.status == 200:
                        self.ok += 1
                    else:
                        self.failures.append(f"HTTP {answer.status}")
            except (OSError, http.client.HTTPException) as error:
                self.failures.append(repr(error))
            finally:
                connection.close()

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


@pytest.fixture
def self_managed(dev: DevEnvironment, kube: Kube, tmp_path: Path) -> Iterator[int]:
    """A webhook keeping its own certificates in a Secret; a registration of its own to inject into."""
    never = {"matchExpressions": [{"key": "nsmigrate.io/never", "operator": "Exists"}]}
    configuration = registration.configurations(url="https://nsmigrate.invalid", ca_bundle=b"none", settings=SETTINGS)[
        0
    ]
    configuration["metadata"]["name"] = CONFIGURATION
    configuration["webhooks"][0]["namespaceSelector"] = never
    kube.apply(configuration)
    settings = dataclasses.replace(
        SETTINGS,
        cert_secret=SECRET,
        webhook_configuration=CONFIGURATION,
        cert_file=str(tmp_path / "tls.crt"),
        key_file=str(tmp_path / "tls.key"),
        cert_check_seconds=0.2,
    )
    port = free_port()
    pid = dev.serve(settings, port=port, log=dev.workdir / "self-managed.log")
    yield port
    stop_pid(pid)


def test_self_managed_certificate_is_made_kept_and_injected(kube: Kube, self_managed: int, tmp_path: Path) -> None:
    data = secret_data(kube)
    (tmp_path / "ca.crt").write_bytes(data["ca.crt"])
    assert (
        serving_serial(self_managed, tmp_path / "ca.crt")
        == x509.load_pem_x509_certificate(data["tls.crt"]).serial_number
    )
    injected = kube.get("MutatingWebhookConfiguration", None, CONFIGURATION)
    assert injected is not None
    assert base64.b64decode(injected["webhooks"][0]["clientConfig"]["caBundle"]) == data["ca-bundle.crt"]


def test_rotation_under_load_fails_no_request(
    dev: DevEnvironment, kube: Kube, self_managed: int, tmp_path: Path
) -> None:
    before = secret_data(kube)
    cafile = tmp_path / "ca.crt"
    cafile.write_bytes(before["ca.crt"])
    first = serving_serial(self_managed, cafile)
    with Load(self_managed, cafile, dev.control_plane.admission_client) as load:
        eventually(lambda: load.ok > 200)
        kube.request(
            "PATCH",
            f"/api/v1/namespaces/nsmigrate/secrets/{SECRET}",
            body={"metadata": {"annotations": {RENEW_ANNOTATION: "now"}}},
            content_type="application/merge-patch+json",
        )
        eventually(lambda: serving_serial(self_managed, cafile) != first)
        served = load.ok
        eventually(lambda: load.ok > served + 200)
    after = secret_data(kube)
    assert after["ca.crt"] == before["ca.crt"]
    assert after["tls.crt"] != before["tls.crt"]
    assert load.failures == []
    assert load.ok > 400
