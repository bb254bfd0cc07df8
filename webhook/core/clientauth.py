"""Who may call /mutate and /validate: the API server, known by its client certificate.

The TLS layer has already verified the certificate against the client CA; what is left to decide
is whether its subject is one of the allowed names. ``PeerCertificate`` is the shape
``ssl.SSLSocket.getpeercert()`` returns.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

API_SERVER_CLIENT_NAME = "kube-apiserver-admission"
"""The subject name the dev control plane gives the API server's client certificate, and the default
allowed one (the chart's too)."""

Refusal = Literal["no-certificate", "subject-not-allowed"]
PeerCertificate = Mapping[str, Any]


def subject_names(certificate: PeerCertificate) -> set[str]:
    """The certificate's common names and DNS subject alternative names."""
    names = {value for rdn in certificate.get("subject", ()) for key, value in _pairs(rdn) if key == "commonName"}
    names |= {value for kind, value in certificate.get("subjectAltName", ()) if kind == "DNS"}
    return names


def refusal(certificate: PeerCertificate | None, *, allowed: Collection[str]) -> Refusal | None:
    """Why this caller is refused, or None when it is the API server."""
    if not certificate:  # None: no certificate presented; {}: presented but not verified
        return "no-certificate"
    if subject_names(certificate).isdisjoint(allowed):
        return "subject-not-allowed"
    return None


def _pairs(rdn: Sequence[Any]) -> list[tuple[str, str]]:
    return [(str(pair[0]), str(pair[1])) for pair in rdn if isinstance(pair, Sequence) and len(pair) == 2]
