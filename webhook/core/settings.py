"""Settings: one frozen record, read from the environment in one place (``from_env``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from webhook.core.clientauth import API_SERVER_CLIENT_NAME
from webhook.core.labels import SYSTEM_NAMESPACES

FailurePolicy = Literal["Fail", "Ignore"]
ENV_PREFIX = "NSMIGRATE_"


@dataclass(frozen=True)
class Settings:
    cluster_domain: str = "cluster.local"
    """DNS domain of the cluster; full Service names end in ``.svc.<cluster_domain>``."""

    own_namespace: str = "nsmigrate"
    """Where nsmigrate runs: never a source or a target."""

    excluded_namespaces: tuple[str, ...] = tuple(sorted(SYSTEM_NAMESPACES))
    """Namespaces never a source or a target besides ``own_namespace`` (the chart's
    ``webhook.excludedNamespaces``, which the registrations skip too); the system namespaces always are."""

    failure_policy: FailurePolicy = "Fail"
    """What an error inside nsmigrate means for the object under review: refuse it ("Fail", the
    default: a workload must not land with short names nothing resolves) or admit it unchanged
    ("Ignore"). The webhook registrations use the same value."""

    max_body_bytes: int = 8 * 1024 * 1024
    """Largest AdmissionReview accepted; a larger body is answered with 413."""

    api_timeout_seconds: float = 2.0
    """Bound on each API call made while an admission waits (proxy creation)."""

    host: str = "0.0.0.0"  # noqa: S104 - a pod serves on its pod IP; the dev tools pass 127.0.0.1
    """Address the server binds."""

    port: int = 8443
    """HTTPS port of the server."""

    cert_file: str = "certs/tls.crt"
    """Serving certificate (PEM)."""

    key_file: str = "certs/tls.key"
    """Private key of the serving certificate (PEM)."""

    client_verification: bool = True
    """Only the API server is heard: /mutate and /validate require a client certificate signed by
    ``client_ca_file`` with a subject in ``client_subject_names``. Off (a warning at start) only where
    the API server cannot present one; then a NetworkPolicy must keep every other caller out."""

    client_ca_file: str = ""
    """CA bundle (PEM) that signs the API server's client certificate; required while verification is on."""

    client_subject_names: tuple[str, ...] = (API_SERVER_CLIENT_NAME,)
    """Subject names accepted (the certificate's common name or a DNS SAN); comma-separated in the environment."""

    cert_secret: str = ""
    """Self-managed certificates: the Secret (in ``own_namespace``) where nsmigrate keeps its CA and
    serving certificate, renews them and writes them to ``cert_file``/``key_file``. Empty: the files
    are provided (cert-manager or an existing Secret, mounted)."""

    service_name: str = "nsmigrate"
    """The webhook's Service: the self-managed certificate is made for its DNS names."""

    webhook_configuration: str = "nsmigrate"
    """Name of the Mutating- and ValidatingWebhookConfiguration that self-managed mode injects its CA into."""

    cert_check_seconds: float = 3600.0
    """How often self-managed mode checks its certificate (renewed 30 days before it expires)."""

    kubeconfig: str | None = None
    """Kubeconfig to reach the API server; None means in-cluster, then the usual default file."""

    threads: int = 8
    """Threads of the single gunicorn worker process (admission work is short and mostly I/O)."""

    keepalive_seconds: int = 75
    """How long an idle keep-alive connection from the API server stays open."""

    log_level: str = "INFO"
    """Level of the JSON log lines on stdout."""

    orphan_grace_seconds: float = 60.0
    """How long a proxy whose target is gone, and which nobody calls, lives on before removal."""

    reconcile_interval_seconds: float = 1.0
    """Least time between two reconcile passes: how long a Service created after its workload may
    wait for its proxy, and how the reconciler's CPU use is bounded on a busy cluster."""

    resync_seconds: float = 300.0
    """Full reconcile pass at least this often, besides the passes that watch events trigger."""

    lease_seconds: float = 15.0
    """Leader lease of the reconciler: one replica reconciles; another takes over this long after it stops."""

    lease_name: str = "nsmigrate-reconciler"
    """The coordination.k8s.io Lease, in ``own_namespace``."""

    @property
    def service_dns_names(self) -> tuple[str, ...]:
        """Every name the API server may use for the webhook's Service."""
        short = f"{self.service_name}.{self.own_namespace}"
        return (self.service_name, short, f"{short}.svc", f"{short}.svc.{self.cluster_domain}")

    @property
    def protected_namespaces(self) -> frozenset[str]:
        """Namespaces that are never a source or a target."""
        return SYSTEM_NAMESPACES | {*self.excluded_namespaces, self.own_namespace}


def from_env(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from ``NSMIGRATE_<FIELD>`` variables, then explicit overrides (None ones ignored)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for spec in fields(Settings):
        raw = environ.get(ENV_PREFIX + spec.name.upper())
        if raw is not None:
            values[spec.name] = _convert(raw, default=getattr(Settings(), spec.name), name=spec.name)
    values.update({name: value for name, value in overrides.items() if value is not None})
    settings = replace(Settings(), **values)
    if settings.failure_policy not in ("Fail", "Ignore"):
        raise ValueError(f"failure_policy must be Fail or Ignore, not {settings.failure_policy!r}")
    if settings.client_verification and not settings.client_subject_names:
        raise ValueError(f"{ENV_PREFIX}CLIENT_SUBJECT_NAMES is empty: no client could ever be accepted")
    return settings


def to_env(settings: Settings) -> dict[str, str]:
    """The ``NSMIGRATE_<FIELD>`` variables that ``from_env`` reads back into these settings."""
    return {
        ENV_PREFIX + spec.name.upper(): _text(getattr(settings, spec.name))
        for spec in fields(Settings)
        if getattr(settings, spec.name) is not None
    }


def _text(value: Any) -> str:
    return ",".join(value) if isinstance(value, tuple) else str(value)


def _convert(raw: str, *, default: Any, name: str) -> Any:
    try:
        if isinstance(default, bool):
            return raw.lower() in ("1", "true", "yes")
        if isinstance(default, tuple):
            return tuple(item.strip() for item in raw.split(",") if item.strip())
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a valid {type(default).__name__}") from None
    return raw
