"""Run the benchmarks: ``python -m bench.run`` (quick: CI, under three minutes), ``--full`` (100,000
objects) and ``--peer`` (Kyverno beside nsmigrate; ``make bench`` and ``make bench-peer`` add it).

Every figure that matters is a ratio against a baseline measured in the same run, on the same
machine, through the same server stack: these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import mirrorlag, reviews
from bench.creates import Creates, Setup, mutating_registrations, proxy_delays
from bench.peer import PEER_LABEL, Kyverno
from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.core.mutation import plan_mutation
from webhook.core.settings import Settings
from webhook.dev import registration, seed
from webhook.dev.environment import DevEnvironment
from webhook.dev.processes import free_port, stop_pid
from webhook.http.metrics import sample
from webhook.kube.client import ApiError, Kube
from webhook.kube.live import KubeCluster

RESULTS = Path(__file__).with_name("results.json")
QUICK_RESULTS = Path(__file__).with_name("results-quick.json")
"""The quick sizes write apart: a CI or local quick run never overwrites the full run's figures."""
FILL_STEPS = (0.1, 0.4, 1.0)
"""Fractions of the full size at which admissions are measured again (for latency against size)."""
OLD, NEW, PLAIN, PEER = "bench-old", "bench-new", "bench-plain", "bench-peer"


@dataclass(frozen=True)
class Size:
    deployments: int
    services: int
    configmaps: int
    requests: int
    """Reviews per in-process measurement (and per run of /noop against /mutate)."""
    runs: int
    """Runs of /noop then /mutate, for the spread of their ratio."""
    creates: int
    """Deployment CREATEs per setup through the API server, in batches of ``batch``."""
    batch: int
    proxies: int
    """Deployments behind a moved Service, per setup: how soon their proxy exists."""
    mirrored: int
    """Handed-over Services whose slices nsmigrate mirrors, and ``mirror_changes`` slice changes to them."""
    mirror_changes: int


SIZES = {
    "quick": Size(
        deployments=1000,
        services=1000,
        configmaps=500,
        requests=400,
        runs=5,
        creates=40,
        batch=10,
        proxies=3,
        mirrored=100,
        mirror_changes=60,
    ),
    "full": Size(
        deployments=40_000,
        services=40_000,
        configmaps=20_000,
        requests=2000,
        runs=5,
        creates=200,
        batch=20,
        proxies=10,
        mirrored=1000,
        mirror_changes=600,
    ),
}


def headless(service: JsonObject) -> JsonObject:
    """A Service without a cluster IP: past about 40,000 Services, the API server's cluster IP allocation
    takes about a second per create here, and the watch cache keeps the same record either way."""
    return {**service, "spec": {**service["spec"], "clusterIP": "None"}}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(latencies: list[float], seconds: float) -> dict[str, float]:
    return {
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "per_second": len(latencies) / seconds,
    }


class Bench:
    def __init__(self, workdir: Path, size: Size, say: Callable[[str], None], *, peer: bool = False) -> None:
        self.workdir = workdir
        self.size = size
        self.say = say
        self.env = DevEnvironment(workdir / "dev")
        self.peer = Kyverno(workdir / "kyverno", self.env.kubeconfig) if peer else None
        self.settings = Settings()
        self.server_pid = 0
        self.server_port = 0
        self.filled: tuple[int, ...] = (0, 0, 0)

    @property
    def ca(self) -> str:
        return str(self.env.workdir / "webhook-certs" / "ca.crt")

    @property
    def client(self) -> tuple[Path, Path]:
        """The API server's admission client certificate: the load presents it, as the API server does."""
        return self.env.control_plane.admission_client

    def start_server(self) -> float:
        """The bench server (the webhook plus /noop) as a fresh process; seconds until it is ready."""
        if self.server_pid:
            stop_pid(self.server_pid)
        self.server_port = free_port()
        started = time.monotonic()
        log = self.workdir / "bench-server.log"
        self.server_pid = self.env.serve(self.settings, port=self.server_port, log=log, module="bench.server")
        return time.monotonic() - started

    def get(self, path: str) -> tuple[int, str]:
        context = ssl.create_default_context(cafile=self.ca)
        try:
            url = f"https://127.0.0.1:{self.server_port}{path}"
            with urllib.request.urlopen(url, context=context, timeout=5) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""
        except OSError:
            return 0, ""

    def metric(self, name: str, **wanted: str) -> float:
        return sample(self.get("/metrics")[1], name, **wanted)

    def rss_mib(self) -> float:
        """Resident memory of the gunicorn worker (where caches live), MiB."""
        children = Path(f"/proc/{self.server_pid}/task/{self.server_pid}/children").read_text().split()
        pid = int(children[0]) if children else self.server_pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def load(self, path: str, body: bytes, count: int) -> tuple[list[float], float]:
        """Latencies of ``count`` requests on one keep-alive connection, and the seconds they took."""
        body_file = self.workdir / "body.json"
        body_file.write_bytes(body)
        url = f"https://127.0.0.1:{self.server_port}{path}"
        done = subprocess.run(
            [sys.executable, "-m", "bench.load", url, str(body_file), self.ca, str(count), "1", *map(str, self.client)],
            capture_output=True,
            text=True,
            check=True,
        )
        answer = json.loads(done.stdout)
        if answer["errors"]:
            raise RuntimeError(f"{path}: {len(answer['errors'])} failed requests, first {answer['errors'][0]}")
        return answer["latencies"], answer["seconds"]

    def admissions(self) -> dict[str, Any]:
        """/noop, /mutate and /validate in alternating runs on the same bodies (the ratio of each run
        kept, for its spread), then the large review; the no-op of each run is the baseline that makes
        runs at different cluster sizes comparable (machine drift between them cancels)."""
        typical = reviews.typical_deployment(NEW, OLD)
        large = reviews.large_deployment(NEW)
        typical_body = reviews.review_body(typical, operation="UPDATE", old=typical)
        large_body = reviews.review_body(large, operation="UPDATE", old=large)
        proxy = Kube.connect(str(self.env.kubeconfig)).get("Service", OLD, "svc-moved") or {}
        validate_body = reviews.review_body(None, operation="DELETE", old=proxy)
        bodies = {"noop": typical_body, "mutate": typical_body, "validate": validate_body}
        count = self.size.requests
        figures: dict[str, Any] = {}
        pooled: dict[str, tuple[list[float], float]] = {name: ([], 0.0) for name in bodies}
        runs: dict[str, list[float]] = {"mutate": [], "validate": []}
        for name, body in bodies.items():
            self.load(f"/{name}", body, max(20, count // 10))  # warm up
        for _ in range(self.size.runs):
            run = {}
            for name, body in bodies.items():
                latencies, seconds = self.load(f"/{name}", body, count)
                run[name] = percentile(latencies, 0.5)
                pooled[name] = (pooled[name][0] + latencies, pooled[name][1] + seconds)
            for name, ratios_of_runs in runs.items():
                ratios_of_runs.append(run[name] / run["noop"])
        figures |= {name: summary(*measured) for name, measured in pooled.items()}
        figures["mutate_vs_noop_p50_runs"] = runs["mutate"]
        figures["validate_vs_noop_p50_runs"] = runs["validate"]
        for name, path, body in (("noop_large", "/noop", large_body), ("mutate_large", "/mutate", large_body)):
            self.load(path, body, max(20, count // 10))  # warm up
            figures[name] = summary(*self.load(path, body, count))
        return figures

    def endpoint_figures(self, endpoint: str) -> dict[str, float]:
        """The bench server's reviews answered on ``endpoint``, seconds spent deciding them, and API
        reads made during admissions."""
        text = self.get("/metrics")[1]
        return {
            "count": sample(text, "nsmigrate_admission_duration_seconds_count", endpoint=endpoint),
            "sum": sample(text, "nsmigrate_admission_duration_seconds_sum", endpoint=endpoint),
            "reads": sample(text, "nsmigrate_api_requests_total", verb="read", during_admission="true"),
        }

    def in_force(self, setup: str) -> Callable[[Kube, JsonObject], bool]:
        """Whether a dry-run CREATE is now admitted by ``setup`` alone."""

        def check(kube: Kube, probe: JsonObject) -> bool:
            before = self.endpoint_figures("noop")["count"]
            try:
                reply = kube.apply(probe, dry_run=True)
            except ApiError:  # a webhook not serving yet (a peer still making its certificate)
                return False
            noop = self.endpoint_figures("noop")["count"] > before
            nsmigrate = any(warning.startswith("nsmigrate:") for warning in reply.warnings)
            kyverno = f".{OLD}.svc.cluster.local" in json.dumps(reply.body.get("spec"))
            alone = {"noop": noop and not nsmigrate, "nsmigrate": nsmigrate and not noop}
            return alone.get(setup, kyverno and not (noop or nsmigrate))

        return check

    def cached_objects_grew(self, count: int) -> Callable[[], None]:
        """A wait for the bench server's cache to hold ``count`` more objects than now."""
        floor = self.metric("nsmigrate_cache_objects") + count

        def wait() -> None:
            deadline = time.monotonic() + 30
            while self.metric("nsmigrate_cache_objects") < floor and time.monotonic() < deadline:
                time.sleep(0.05)

        return wait

    def create_latency(self, kube: Kube) -> dict[str, Any]:
        """Deployment CREATE through the API server under each setup in alternating batches
        (bench/creates.py), then how soon the proxy of a moved Service exists after the CREATE."""
        url = f"https://127.0.0.1:{self.server_port}"
        ca_bundle = Path(self.ca).read_bytes()
        registrations = mutating_registrations(url=url, ca_bundle=ca_bundle, settings=self.settings)
        setups = [
            Setup("none", PLAIN),
            Setup("noop", NEW, registrations["noop"], endpoint="noop", in_force=self.in_force("noop")),
            Setup("nsmigrate", NEW, registrations["nsmigrate"], endpoint="mutate", in_force=self.in_force("nsmigrate")),
        ]
        if self.peer:
            peer = self.peer
            setups.append(
                Setup("kyverno", PEER, in_force=self.in_force("kyverno"), after_batch=lambda: peer.drain(kube))
            )
        creates = Creates(kube, setups, old=OLD, metrics=self.endpoint_figures)
        timings = creates.run(rounds=max(1, self.size.creates // self.size.batch), batch=self.size.batch)
        proxies = {}
        for setup in setups[2:]:
            creates.activate(setup)
            waiting = self.cached_objects_grew(2 * self.size.proxies)
            proxies[setup.name] = proxy_delays(kube, setup, old=OLD, count=self.size.proxies, services_seen=waiting)
        # The environment's own registration back, as the rest of the run expects it.
        creates.activate(setups[0])
        env_url = f"https://127.0.0.1:{self.env.webhook_port}"
        kube.apply(registration.configurations(url=env_url, ca_bundle=ca_bundle, settings=self.settings)[0])
        return {
            "series": {name: summary(values, sum(values)) for name, values in timings.latencies.items()},
            "server_ms": {name: statistics.median(values) * 1000 for name, values in timings.server.items()},
            "reads_per_create": timings.reads,
            "switch_ms_max": max(timings.switches) * 1000,
            "proxy_seconds": proxies,
            "peer_rss_mib": self.peer.rss_mib() if self.peer else {},
        }

    def breakdown(self, kube: Kube) -> dict[str, float]:
        """In process: five confirmation GETs made together (as a first deploy of the typical Deployment
        needs), and the size of the patch of that deploy."""
        live = KubeCluster(Kube.connect(str(self.env.kubeconfig), timeout=5))
        keys = [(NEW, f"svc{n}") for n in range(5)]
        latencies = []
        for _ in range(max(50, self.size.creates)):
            started = time.perf_counter()
            live.services_named(keys)
            latencies.append(time.perf_counter() - started)
        typical = reviews.typical_deployment(NEW, OLD, name="breakdown")
        plan = plan_mutation(typical, live, self.settings, namespace=NEW, operation="CREATE")
        return {
            "confirmation_gets_p50_ms": percentile(latencies, 0.5) * 1000,
            "confirmation_gets_p99_ms": percentile(latencies, 0.99) * 1000,
            "patch_operations": float(len(plan.patch)),
            "patch_bytes": float(len(json.dumps(plan.patch, separators=(",", ":")))),
            "rewrites": float(len(plan.rewrites)),
        }

    def fill(self, kube: Kube, fraction: float) -> int:
        """Deployments, Services and ConfigMaps in plain namespaces, created in parallel, up to
        ``fraction`` of the size (objects already there are skipped)."""
        namespaces = [f"fill-{n}" for n in range(20)]
        for namespace in namespaces:
            kube.apply(seed.namespace(namespace))
        manifests: list[JsonObject] = []
        for n in range(self.filled[0], round(self.size.deployments * fraction)):
            manifests.append(seed.deployment(f"d{n}", namespaces[n % 20], {"PEER_URL": f"http://s{n}/", "MODE": "x"}))
        for n in range(self.filled[1], round(self.size.services * fraction)):
            manifests.append(headless(seed.service(f"s{n}", namespaces[n % 20], f"d{n}")))
        for n in range(self.filled[2], round(self.size.configmaps * fraction)):
            manifests.append(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"c{n}", "namespace": namespaces[n % 20]},
                    "data": {"UPSTREAM_ADDR": f"s{n}:80", "LEVEL": "info"},
                }
            )

        def create(manifest: JsonObject) -> None:
            try:
                kube.create(manifest, timeout=30)
            except ApiError as error:
                if error.status != 409:
                    raise

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(create, manifests))
        self.filled = tuple(
            round(total * fraction) for total in (self.size.deployments, self.size.services, self.size.configmaps)
        )
        return len(manifests)

    def scenario(self, kube: Kube) -> None:
        """bench-old (consenting) with svc0..svc4 and a proxy with a caller; bench-new migrating from it."""
        kube.apply(seed.namespace(OLD, {labels.SOURCE: "true"}))
        kube.apply(seed.namespace(NEW, {labels.MIGRATE_FROM: OLD}))
        kube.apply(seed.namespace(PLAIN))
        kube.apply(seed.namespace(PEER, {PEER_LABEL: OLD}))
        for n in range(5):
            kube.apply(seed.service(f"svc{n}", OLD, f"app{n}"))
        kube.apply(seed.service("svc-moved", NEW, "moved"))
        kube.apply(seed.deployment("moved", NEW, {}))
        kube.apply(seed.deployment("caller", OLD, {"MOVED_URL": "http://svc-moved/"}))

    def settle(self, quiet_seconds: float = 2.0, limit: float = 120.0) -> None:
        """Wait until the registered webhook has digested the fill's watch events (its cache stops
        growing): measurements are not to share the two cores with that."""
        context = ssl.create_default_context(cafile=self.ca)
        url = f"https://127.0.0.1:{self.env.webhook_port}/metrics"
        last, since, deadline = -1.0, time.monotonic(), time.monotonic() + limit
        while time.monotonic() < deadline:
            with urllib.request.urlopen(url, context=context, timeout=5) as answer:
                objects = sample(answer.read().decode(), "nsmigrate_cache_objects")
            if objects != last:
                last, since = objects, time.monotonic()
            elif time.monotonic() - since >= quiet_seconds:
                return
            time.sleep(0.2)

    def wait_for_proxy(self, kube: Kube) -> None:
        """The reconciler makes bench-old/svc-moved, the proxy the /validate runs try to delete."""
        deadline = time.monotonic() + 30
        while (kube.get("Service", OLD, "svc-moved") or {}).get("spec", {}).get("type") != "ExternalName":
            if time.monotonic() > deadline:
                raise TimeoutError("the proxy of the bench scenario did not appear")
            time.sleep(0.1)

    def step(self, sync_seconds: float) -> dict[str, Any]:
        """Admission figures, memory and sync time with the cluster as it is now."""
        started = time.perf_counter()
        objects = self.metric("nsmigrate_cache_objects")
        scrape = time.perf_counter() - started  # /metrics walks the proxies of the cache (their callers)
        self.say(f"admissions with {objects:.0f} objects cached ...")
        return {
            "objects": objects,
            "admissions": self.admissions(),
            "rss_mib": self.rss_mib(),
            "sync_seconds": sync_seconds,
            "metrics_scrape_ms": scrape * 1000,
        }

    def run(self) -> dict[str, Any]:
        self.say("starting etcd, kube-apiserver and the registered webhook ...")
        self.env.up(self.settings)
        try:
            kube = Kube.connect(str(self.env.kubeconfig), timeout=30, pool_size=16)
            self.scenario(kube)
            if self.peer:
                self.say("starting Kyverno, the peer, with its policy ...")
                self.peer.start(kube)
                self.peer.apply_policy(kube)
            sync_seconds = self.start_server()
            self.wait_for_proxy(kube)
            steps = [self.step(sync_seconds)]
            self.say("Deployment CREATE through the API server: no webhook, the no-op floor, nsmigrate"
                     + (", Kyverno" if self.peer else "") + " ...")  # fmt: skip
            creates = self.create_latency(kube)
            breakdown = self.breakdown(kube)
            if self.peer:
                self.peer.stop()  # the rest measures nsmigrate alone
            self.say(
                f"mirror lag: {self.size.mirrored} handed-over Services, {self.size.mirror_changes} slice changes ..."
            )
            mirror_lag = mirrorlag.measure(kube, services=self.size.mirrored, changes=self.size.mirror_changes, rate=20)
            for fraction in FILL_STEPS:
                self.say(f"filling to {fraction:.0%} of {self.size.deployments} Deployments, {self.size.services} "
                         f"Services, {self.size.configmaps} ConfigMaps ...")  # fmt: skip
                self.fill(kube, fraction)
                self.settle()
                steps.append(self.step(self.start_server()))
            reads = self.metric("nsmigrate_api_requests_total", verb="read", during_admission="true")
        finally:
            if self.peer:
                self.peer.stop()
            if self.server_pid:
                stop_pid(self.server_pid)
            self.env.down()
        return {
            "steps": steps,
            "small": steps[0]["admissions"],
            "large": steps[-1]["admissions"],
            "creates": creates,
            "breakdown": breakdown,
            "mirror_lag_seconds": mirror_lag,
            "objects_small": steps[0]["objects"],
            "objects_large": steps[-1]["objects"],
            "rss_mib_small": steps[0]["rss_mib"],
            "rss_mib_large": steps[-1]["rss_mib"],
            "sync_seconds_large": steps[-1]["sync_seconds"],
            "api_reads_on_admission": reads,
        }


def relative(admissions: dict[str, Any], name: str) -> float:
    """p50 of an endpoint over the no-op's p50 in the same alternating runs."""
    return float(admissions[name]["p50_ms"] / admissions["noop"]["p50_ms"])


def ratios(raw: dict[str, Any]) -> dict[str, float]:
    small, large, creates = raw["small"], raw["large"], raw["creates"]["series"]
    runs = [ratio for step in raw["steps"] for ratio in step["admissions"]["mutate_vs_noop_p50_runs"]]

    def create_ratio(key: str, series: str, baseline: str, quantile: str) -> dict[str, float]:
        if series not in creates or baseline not in creates:
            return {}
        return {f"{key}_{quantile}": creates[series][f"{quantile}_ms"] / creates[baseline][f"{quantile}_ms"]}

    figures = {
        "mutate_vs_noop_p50": small["mutate"]["p50_ms"] / small["noop"]["p50_ms"],
        "mutate_vs_noop_p99": small["mutate"]["p99_ms"] / small["noop"]["p99_ms"],
        "mutate_vs_noop_p50_min": min(runs),
        "mutate_vs_noop_p50_max": max(runs),
        "large_mutate_vs_noop_p50": small["mutate_large"]["p50_ms"] / small["noop_large"]["p50_ms"],
        "create_with_vs_without_p50": creates["nsmigrate"]["p50_ms"] / creates["none"]["p50_ms"],
        "create_with_vs_without_p99": creates["nsmigrate"]["p99_ms"] / creates["none"]["p99_ms"],
        "noop_webhook_vs_without_p50": creates["noop"]["p50_ms"] / creates["none"]["p50_ms"],
        "noop_webhook_vs_without_p99": creates["noop"]["p99_ms"] / creates["none"]["p99_ms"],
        # At each size against the no-op of the same runs, so that drift between the steps cancels:
        "scale_mutate_p50_ratio": relative(large, "mutate") / relative(small, "mutate"),
        "scale_validate_p50_ratio": relative(large, "validate") / relative(small, "validate"),
        "scale_mutate_p50_ratio_absolute": large["mutate"]["p50_ms"] / small["mutate"]["p50_ms"],
        "scale_validate_p50_ratio_absolute": large["validate"]["p50_ms"] / small["validate"]["p50_ms"],
        "rss_mib_small": raw["rss_mib_small"],
        "rss_mib_large": raw["rss_mib_large"],
        "objects_large": raw["objects_large"],
        "sync_seconds_large": raw["sync_seconds_large"],
        "api_reads_on_admission": raw["api_reads_on_admission"],
        "confirmation_reads_per_create": raw["creates"]["reads_per_create"].get("nsmigrate", 0.0),
    }
    for quantile in ("p50", "p99"):
        figures |= create_ratio("create_vs_noop_webhook", "nsmigrate", "noop", quantile)
        figures |= create_ratio("create_vs_kyverno", "nsmigrate", "kyverno", quantile)
        figures |= create_ratio("create_qualified_vs_noop_webhook", "nsmigrate_qualified", "noop", quantile)
    figures["mirror_lag_p50_ms"] = percentile(raw["mirror_lag_seconds"], 0.5) * 1000
    figures["mirror_lag_p99_ms"] = percentile(raw["mirror_lag_seconds"], 0.99) * 1000
    for setup, delays in raw["creates"]["proxy_seconds"].items():
        figures[f"proxy_seconds_{setup}_p50"] = percentile(delays, 0.5)
        figures[f"proxy_seconds_{setup}_max"] = max(delays)
    if raw["creates"]["peer_rss_mib"]:
        figures["kyverno_rss_mib"] = sum(raw["creates"]["peer_rss_mib"].values())
    return figures


def table(raw: dict[str, Any], figures: dict[str, float]) -> str:
    rows = ["| measurement | p50 ms | p99 ms | req/s |", "|---|---|---|---|"]
    for step in raw["steps"]:
        for name, result in step["admissions"].items():
            if not isinstance(result, dict):
                continue
            rows.append(
                f"| {name} ({step['objects']:.0f} objects) | {result['p50_ms']:.2f} | {result['p99_ms']:.2f} | "
                f"{result['per_second']:.0f} |"
            )
    for key, result in raw["creates"]["series"].items():
        rows.append(f"| Deployment CREATE, {key} | {result['p50_ms']:.2f} | {result['p99_ms']:.2f} | |")
    rows += ["", "| figure | value |", "|---|---|"]
    rows += [f"| {key} | {value:.3f} |" for key, value in figures.items()]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--full", action="store_true", help="100,000-object sizes (default: quick)")
    parser.add_argument("--peer", action="store_true", help="Kyverno beside nsmigrate (built by build.sh kyverno)")
    parser.add_argument("--out", type=Path, help=f"default {RESULTS.name}, or {QUICK_RESULTS.name} for the quick sizes")
    args = parser.parse_args(argv)
    out: Path = args.out or (RESULTS if args.full else QUICK_RESULTS)
    size = SIZES["full" if args.full else "quick"]
    with tempfile.TemporaryDirectory(prefix="nsmigrate-bench-") as scratch:
        raw = Bench(Path(scratch), size, say=lambda text: print(text, flush=True), peer=args.peer).run()
    figures = ratios(raw)
    previous = json.loads(out.read_text()) if out.exists() else {}
    kept = {"gate": previous["gate"]} if "gate" in previous else {}  # bench.gate's own figures stay
    out.write_text(json.dumps({**kept, **figures, "size": "full" if args.full else "quick", "raw": raw}, indent=2))
    print(table(raw, figures))
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
