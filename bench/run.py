"""Run the benchmarks: ``python -m bench.run --quick`` (CI, under two minutes) or ``--full``.

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

from bench import reviews
from webhook.core import labels
from webhook.core.objects import JsonObject
from webhook.core.settings import Settings
from webhook.dev import seed
from webhook.dev.controlplane import free_port, stop_pid
from webhook.dev.environment import DevEnvironment
from webhook.http.metrics import sample
from webhook.kube.client import ApiError, Kube

RESULTS = Path(__file__).with_name("results.json")
FILL_STEPS = (0.1, 0.4, 1.0)
"""Fractions of the full size at which admissions are measured again (for latency against size)."""
OLD, NEW, PLAIN = "bench-old", "bench-new", "bench-plain"


@dataclass(frozen=True)
class Size:
    deployments: int
    services: int
    configmaps: int
    requests: int
    creates: int


SIZES = {
    "quick": Size(deployments=1000, services=1000, configmaps=500, requests=300, creates=40),
    "full": Size(deployments=10_000, services=10_000, configmaps=5000, requests=2000, creates=200),
}


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
    def __init__(self, workdir: Path, size: Size, say: Callable[[str], None]) -> None:
        self.workdir = workdir
        self.size = size
        self.say = say
        self.env = DevEnvironment(workdir / "dev")
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

    def load(self, path: str, body: bytes, count: int) -> dict[str, float]:
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
        return summary(answer["latencies"], answer["seconds"])

    def admissions(self) -> dict[str, dict[str, float]]:
        """/mutate (typical and large) and /validate, against /noop with the same bodies."""
        typical = reviews.typical_deployment(NEW, OLD)
        large = reviews.large_deployment(NEW)
        typical_body = reviews.review_body(typical, operation="UPDATE", old=typical)
        large_body = reviews.review_body(large, operation="UPDATE", old=large)
        proxy = Kube.connect(str(self.env.kubeconfig)).get("Service", OLD, "svc-moved") or {}
        validate_body = reviews.review_body(None, operation="DELETE", old=proxy)
        count = self.size.requests
        figures = {}
        for name, path, body in (
            ("noop", "/noop", typical_body),
            ("mutate", "/mutate", typical_body),
            ("noop_large", "/noop", large_body),
            ("mutate_large", "/mutate", large_body),
            ("validate", "/validate", validate_body),
        ):
            self.load(path, body, max(20, count // 10))  # warm up
            figures[name] = self.load(path, body, count)
        return figures

    def create_latency(self, kube: Kube) -> dict[str, dict[str, float]]:
        """Deployment CREATE through the API server: into a migrating namespace (the webhook is called)
        and into a plain one (it is not), interleaved."""
        timings: dict[str, list[float]] = {"with": [], "without": []}
        for n in range(self.size.creates):
            for key, namespace in (("with", NEW), ("without", PLAIN)):
                started = time.perf_counter()
                kube.create(reviews.typical_deployment(namespace, OLD, name=f"create-{n}"))
                timings[key].append(time.perf_counter() - started)
        return {key: summary(values, sum(values)) for key, values in timings.items()}

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
            manifests.append(seed.service(f"s{n}", namespaces[n % 20], f"d{n}"))
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
        objects = self.metric("nsmigrate_cache_objects")
        self.say(f"admissions with {objects:.0f} objects cached ...")
        return {
            "objects": objects,
            "admissions": self.admissions(),
            "rss_mib": self.rss_mib(),
            "sync_seconds": sync_seconds,
        }

    def run(self) -> dict[str, Any]:
        self.say("starting etcd, kube-apiserver and the registered webhook ...")
        self.env.up(self.settings)
        try:
            kube = Kube.connect(str(self.env.kubeconfig), timeout=30, pool_size=16)
            self.scenario(kube)
            sync_seconds = self.start_server()
            self.wait_for_proxy(kube)
            steps = [self.step(sync_seconds)]
            self.say("Deployment CREATE through the API server, with and without the webhook ...")
            creates = self.create_latency(kube)
            for fraction in FILL_STEPS:
                self.say(f"filling to {fraction:.0%} of {self.size.deployments} Deployments, {self.size.services} "
                         f"Services, {self.size.configmaps} ConfigMaps ...")  # fmt: skip
                self.fill(kube, fraction)
                self.settle()
                steps.append(self.step(self.start_server()))
            reads = self.metric("nsmigrate_api_requests_total", verb="read", during_admission="true")
        finally:
            if self.server_pid:
                stop_pid(self.server_pid)
            self.env.down()
        return {
            "steps": steps,
            "small": steps[0]["admissions"],
            "large": steps[-1]["admissions"],
            "creates": creates,
            "objects_small": steps[0]["objects"],
            "objects_large": steps[-1]["objects"],
            "rss_mib_small": steps[0]["rss_mib"],
            "rss_mib_large": steps[-1]["rss_mib"],
            "sync_seconds_large": steps[-1]["sync_seconds"],
            "api_reads_on_admission": reads,
        }


def ratios(raw: dict[str, Any]) -> dict[str, float]:
    small, large, creates = raw["small"], raw["large"], raw["creates"]
    return {
        "mutate_vs_noop_p50": small["mutate"]["p50_ms"] / small["noop"]["p50_ms"],
        "mutate_vs_noop_p99": small["mutate"]["p99_ms"] / small["noop"]["p99_ms"],
        "large_mutate_vs_noop_p50": small["mutate_large"]["p50_ms"] / small["noop_large"]["p50_ms"],
        "create_with_vs_without_p50": creates["with"]["p50_ms"] / creates["without"]["p50_ms"],
        "create_with_vs_without_p99": creates["with"]["p99_ms"] / creates["without"]["p99_ms"],
        "scale_mutate_p50_ratio": large["mutate"]["p50_ms"] / small["mutate"]["p50_ms"],
        "scale_validate_p50_ratio": large["validate"]["p50_ms"] / small["validate"]["p50_ms"],
        "rss_mib_small": raw["rss_mib_small"],
        "rss_mib_large": raw["rss_mib_large"],
        "objects_large": raw["objects_large"],
        "sync_seconds_large": raw["sync_seconds_large"],
        "api_reads_on_admission": raw["api_reads_on_admission"],
    }


def table(raw: dict[str, Any], figures: dict[str, float]) -> str:
    rows = ["| measurement | p50 ms | p99 ms | req/s |", "|---|---|---|---|"]
    for step in raw["steps"]:
        for name, result in step["admissions"].items():
            rows.append(
                f"| {name} ({step['objects']:.0f} objects) | {result['p50_ms']:.2f} | {result['p99_ms']:.2f} | "
                f"{result['per_second']:.0f} |"
            )
    for key, result in raw["creates"].items():
        rows.append(f"| Deployment CREATE {key} webhook | {result['p50_ms']:.2f} | {result['p99_ms']:.2f} | |")
    rows += ["", "| figure | value |", "|---|---|"]
    rows += [f"| {key} | {value:.3f} |" for key, value in figures.items()]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--full", action="store_true", help="10,000-object sizes (default: quick)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    size = SIZES["full" if args.full else "quick"]
    with tempfile.TemporaryDirectory(prefix="nsmigrate-bench-") as scratch:
        raw = Bench(Path(scratch), size, say=lambda text: print(text, flush=True)).run()
    figures = ratios(raw)
    args.out.write_text(json.dumps({**figures, "size": "full" if args.full else "quick", "raw": raw}, indent=2))
    print(table(raw, figures))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
