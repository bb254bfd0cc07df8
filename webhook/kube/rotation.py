"""Self-managed certificates: a CA and a serving certificate kept in a Secret of nsmigrate's namespace,
renewed before they expire, the CA injected as ``caBundle`` into nsmigrate's webhook registrations,
and the serving pair written where the server reads it (``webhook.http.tls`` reloads it).

Every replica runs the same loop; writes carry the Secret's resourceVersion, so two replicas that
renew at once cannot both win, and the loser adopts the winner's certificate on its next look.
"""

from __future__ import annotations

import base64
import datetime
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from webhook.core import certs, labels, logs
from webhook.core.certs import write_atomically
from webhook.core.fields import JsonObject
from webhook.kube.client import ApiError, Kube, path_of

RENEW_ANNOTATION = "nsmigrate.io/renew"
"""On the Secret, any value: renew the serving certificate now (``kubectl annotate ... nsmigrate.io/renew=now``)."""


@dataclass(frozen=True)
class Policy:
    dns_names: tuple[str, ...]
    serving_days: int = 365
    ca_days: int = 3650
    renew_before: datetime.timedelta = datetime.timedelta(days=30)


def needs_renewal(cert_pem: bytes, *, dns_names: Sequence[str], now: datetime.datetime, policy: Policy) -> bool:
    """Whether a serving certificate is missing, unreadable, expiring, or not for these names."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return True
    if cert.not_valid_after_utc - policy.renew_before <= now:
        return True
    return set(dns_names) - set(sans.get_values_for_type(x509.DNSName)) != set()


def issue(secret_data: dict[str, bytes], *, policy: Policy, now: datetime.datetime) -> dict[str, bytes]:
    """New Secret data: the CA kept while it outlives the serving certificate by the renewal margin,
    a fresh serving certificate signed by it. The CA bundle keeps the previous CA while it is valid,
    so that clients that still trust only the old one keep working through a CA change."""
    ca: certs.KeyPair | None = None
    try:
        ca = certs.KeyPair.from_pem(secret_data["ca.crt"], secret_data["ca.key"])
    except (KeyError, ValueError):
        ca = None
    serving_end = now + datetime.timedelta(days=policy.serving_days)
    bundle = []
    if ca is None or ca.cert.not_valid_after_utc - policy.renew_before < serving_end:
        if ca is not None and ca.cert.not_valid_after_utc > now:
            bundle.append(ca.cert_pem)
        ca = certs.make_ca("nsmigrate-ca", days=policy.ca_days)
    serving = certs.make_serving_cert(ca, dns_names=policy.dns_names, days=policy.serving_days)
    return {
        "ca.crt": ca.cert_pem,
        "ca.key": ca.key_pem,
        "ca-bundle.crt": b"".join([ca.cert_pem, *bundle]),
        "tls.crt": serving.cert_pem,
        "tls.key": serving.key_pem,
    }


class CertificateKeeper:
    def __init__(
        self,
        kube: Kube,
        *,
        namespace: str,
        secret: str,
        webhook_configurations: Sequence[str],
        cert_file: str,
        key_file: str,
        policy: Policy,
        clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:
        self.kube = kube
        self.path = path_of("Secret", namespace, secret)
        self.namespace = namespace
        self.secret = secret
        self.webhook_configurations = webhook_configurations
        self.cert_file = Path(cert_file)
        self.key_file = Path(key_file)
        self.policy = policy
        self.clock = clock

    def ensure(self) -> None:
        """One look: renew if needed, inject the CA, write the files. Raises if the API cannot be reached."""
        found = self._read()
        data = _decoded(found)
        renew = found is None or RENEW_ANNOTATION in (found.get("metadata", {}).get("annotations") or {})
        if renew or needs_renewal(
            data.get("tls.crt", b""), dns_names=self.policy.dns_names, now=self.clock(), policy=self.policy
        ):
            data = self._renew(found, data)
        self._inject(data.get("ca-bundle.crt") or data["ca.crt"])
        self._write(data)

    def run(self, stop: threading.Event, *, every: float) -> None:
        while not stop.wait(every):
            try:
                self.ensure()
            except Exception:  # the certificate in use stays valid for weeks: try again next time
                logging.getLogger(logs.LOGGER).exception("certificate check failed")

    def _read(self) -> JsonObject | None:
        try:
            return self.kube.request("GET", self.path).body
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def _renew(self, found: JsonObject | None, data: dict[str, bytes]) -> dict[str, bytes]:
        fresh = issue(data, policy=self.policy, now=self.clock())
        metadata: JsonObject = {
            "name": self.secret,
            "namespace": self.namespace,
            "labels": {labels.MANAGED_BY: labels.MANAGER},
        }
        body: JsonObject = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "metadata": metadata}
        body["data"] = {key: base64.b64encode(value).decode() for key, value in fresh.items()}
        try:
            if found is None:
                self.kube.request("POST", self.path.rsplit("/", 1)[0], body=body)
            else:
                annotations = dict(found["metadata"].get("annotations") or {})
                annotations.pop(RENEW_ANNOTATION, None)
                metadata |= {"resourceVersion": found["metadata"]["resourceVersion"], "annotations": annotations}
                self.kube.request("PUT", self.path, body=body)
        except ApiError as error:
            if error.status != 409:  # another replica renewed first: use its certificate
                raise
            return _decoded(self._read())
        logs.event(
            "certificate_renewed", secret=f"{self.namespace}/{self.secret}", dnsNames=list(self.policy.dns_names)
        )
        return fresh

    def _inject(self, bundle: bytes) -> None:
        encoded = base64.b64encode(bundle).decode()
        for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
            for name in self.webhook_configurations:
                path = path_of(kind, None, name)
                try:
                    configuration = self.kube.request("GET", path).body
                except ApiError as error:
                    if error.status == 404:
                        continue
                    raise
                webhooks = configuration.get("webhooks") or []
                if all(hook.get("clientConfig", {}).get("caBundle") == encoded for hook in webhooks):
                    continue
                for hook in webhooks:
                    hook.setdefault("clientConfig", {})["caBundle"] = encoded
                self.kube.request("PUT", path, body=configuration)

    def _write(self, data: dict[str, bytes]) -> None:
        current = self.cert_file.read_bytes() if self.cert_file.exists() else b""
        if current == data["tls.crt"]:
            return
        write_atomically(self.key_file, data["tls.key"])
        write_atomically(self.cert_file, data["tls.crt"], mode=0o644)


def _decoded(secret: JsonObject | None) -> dict[str, bytes]:
    encoded = (secret or {}).get("data") or {}
    return {key: base64.b64decode(value) for key, value in encoded.items()}
