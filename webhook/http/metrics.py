"""Prometheus metrics, kept in a registry of the app's own (nothing global, nothing at import)."""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path

from cryptography import x509
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from webhook.core.findings import Finding
from webhook.core.mutation import MutationResult
from webhook.core.report import ProxyStatus
from webhook.core.validation import DeletionDecision

IN_ADMISSION: ContextVar[bool] = ContextVar("in_admission", default=False)
"""True while a thread decides an admission review: API calls made then are counted apart."""


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "nsmigrate_admission_requests",
            "Admission reviews answered, by endpoint and outcome (allowed, patched, denied, error).",
            ["endpoint", "outcome"],
            registry=self.registry,
        )
        self.bad_requests = Counter(
            "nsmigrate_bad_requests",
            "Malformed webhook requests answered with 400 or 413.",
            ["endpoint", "code"],
            registry=self.registry,
        )
        self.refused = Counter(
            "nsmigrate_requests_refused",
            "Callers refused before any decision: no client certificate, a subject not allowed (HTTP 403), or"
            " a certificate the client CA did not sign (TLS handshake refused).",
            ["reason"],
            registry=self.registry,
        )
        self.internal_errors = Counter(
            "nsmigrate_internal_errors",
            "Reviews nsmigrate failed to decide; answered as the failure policy says.",
            ["endpoint"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "nsmigrate_admission_duration_seconds",
            "Time to decide an admission review, from decoded request to encoded response.",
            ["endpoint"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.rewrites = Counter(
            "nsmigrate_env_rewrites", "Env values rewritten to full Service names.", registry=self.registry
        )
        self.proxies_created = Counter(
            "nsmigrate_proxies_created", "Proxy Services created at admission.", registry=self.registry
        )
        self.proxy_failures = Counter(
            "nsmigrate_proxy_create_failures",
            "Proxy creations that failed at admission (the workload was admitted with a warning).",
            registry=self.registry,
        )

        self.deletions_denied = Counter(
            "nsmigrate_proxy_deletions_denied",
            "Proxy deletions refused because the proxy still has callers (dry runs included).",
            ["namespace"],
            registry=self.registry,
        )
        self.deletions_forced = Counter(
            "nsmigrate_proxy_deletions_forced",
            "Proxy deletions allowed without the callers check (break-glass annotation, terminating namespace).",
            ["namespace"],
            registry=self.registry,
        )

        self.api_requests = Counter(
            "nsmigrate_api_requests",
            "Requests to the API server, by verb and whether an admission review was waiting on them.",
            ["verb", "during_admission"],
            registry=self.registry,
        )
        self.cache_synced = Gauge(
            "nsmigrate_cache_synced", "1 once every watched kind has been listed.", registry=self.registry
        )
        self.cache_objects = Gauge(
            "nsmigrate_cache_objects", "Objects held in the watch cache.", registry=self.registry
        )
        self.leader = Gauge(
            "nsmigrate_reconciler_leader", "1 while this replica holds the reconciler lease.", registry=self.registry
        )
        self.reconcile_passes = Counter(
            "nsmigrate_reconcile_passes",
            "Reconcile passes this replica completed as leader: proof that the reconciler looked.",
            registry=self.registry,
        )

        self.mirrored = Gauge(
            "nsmigrate_mirrored_services", "Handed-over Services whose endpoints follow their target.",
            registry=self.registry,
        )  # fmt: skip
        self.handover_warnings = Gauge(
            "nsmigrate_handover_warnings",
            "Handed-over Services needing attention, by kind (target missing, selector restored, ...).",
            ["kind"],
            registry=self.registry,
        )
        self.slice_writes = Counter(
            "nsmigrate_mirror_slice_writes", "EndpointSlice writes of the mirror.", ["verb"], registry=self.registry
        )

        self.certificate_expiry = Gauge(
            "nsmigrate_certificate_expiry_timestamp_seconds",
            "When the serving certificate on disk (the one new connections get) expires, in Unix seconds.",
            registry=self.registry,
        )
        self.findings = Findings()
        self.registry.register(self.findings)
        self.proxy_callers = ProxyCallers()
        self.registry.register(self.proxy_callers)
        self.fresh_reads = FreshReads()
        self.registry.register(self.fresh_reads)

    def mutated(self, result: MutationResult) -> None:
        """Admission hook: what a mutation rewrote and created."""
        self.rewrites.inc(len(result.plan.rewrites))
        self.proxies_created.inc(len(result.created))
        self.proxy_failures.inc(len(result.failed))

    def audited(self, decision: DeletionDecision) -> None:
        """Admission hook: a denied or forced proxy deletion, by the proxy's namespace."""
        counter = self.deletions_denied if decision.verdict == "denied" else self.deletions_forced
        counter.labels(namespace=decision.proxy.partition("/")[0]).inc()

    def follow_certificate(self, cert_file: str) -> None:
        self.certificate_expiry.set_function(lambda: _not_after(Path(cert_file)))

    def count_untrusted_handshake(self) -> None:
        self.refused.labels(reason="untrusted-certificate").inc()

    def count_api_request(self, method: str, path: str) -> None:
        verb = "read" if method in ("GET", "WATCH") else "write"
        self.api_requests.labels(verb=verb, during_admission=str(IN_ADMISSION.get()).lower()).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class ProxyCallers:
    """``nsmigrate_proxy_callers{proxy, kind}``: the callers each proxy still has, as ``nsmigrate status``
    counts them; computed at scrape time, at most once per ``every`` seconds (a caller search reads
    every workload in the cache)."""

    NAME = "nsmigrate_proxy_callers"
    HELP = "Callers a proxy still has (0: safe to delete), by proxy (namespace/name) and kind."

    def __init__(self, *, every: float = 60.0) -> None:
        self.statuses: Callable[[], Iterable[ProxyStatus]] = list
        self.every = every
        self._lock = threading.Lock()
        self._at = -math.inf
        self._counts: list[tuple[str, str, int]] = []

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(self.NAME, self.HELP, labels=["proxy", "kind"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            if time.monotonic() - self._at >= self.every:
                self._counts = [(s.proxy, s.kind, len(s.callers)) for s in self.statuses()]
                self._at = time.monotonic()
            family = GaugeMetricFamily(self.NAME, self.HELP, labels=["proxy", "kind"])
            for proxy, kind, callers in self._counts:
                family.add_metric([proxy, kind], float(callers))
        yield family


class Findings:
    """``nsmigrate_readiness_findings{reason, object, caller, cause}``: one series per readiness finding at
    the leader's last pass (1: present); ``holds`` says whether it holds a handover back."""

    NAME = "nsmigrate_readiness_findings"
    HELP = "Readiness findings (what else a move breaks), by reason, object, caller and cause; 1 while present."
    LABELS = ("reason", "object", "caller", "cause", "holds")

    def __init__(self) -> None:
        self.findings: Callable[[], Iterable[Finding]] = list

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(self.NAME, self.HELP, labels=self.LABELS)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(self.NAME, self.HELP, labels=self.LABELS)
        for finding in self.findings():
            values = [finding.reason, finding.object, finding.caller, finding.cause, str(finding.holds).lower()]
            family.add_metric(values, 1.0)
        yield family


class FreshReads:
    """``nsmigrate_fresh_read_kinds_total{source}``: caller kinds that deletions' freshness barriers took
    from the cache (its reflector had reached the API server's resourceVersion) or read live."""

    NAME = "nsmigrate_fresh_read_kinds"
    HELP = "Caller kinds a proxy deletion's freshness barrier took from the cache or read live, by source."

    def __init__(self) -> None:
        self.counts: Callable[[], Mapping[str, int]] = dict

    def describe(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(self.NAME, self.HELP, labels=("source",))

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(self.NAME, self.HELP, labels=("source",))
        for source, count in sorted(self.counts().items()):
            family.add_metric([source], float(count))
        yield family


def _not_after(cert_file: Path) -> float:
    try:
        return x509.load_pem_x509_certificate(cert_file.read_bytes()).not_valid_after_utc.timestamp()
    except (OSError, ValueError):
        return math.nan


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text exposition, 0 when it is absent."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if match and match.group(1) == name and dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or "")) == labels:
            return float(match.group(3))
    return 0.0
