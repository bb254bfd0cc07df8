"""Sustained load against a real ``nsmigrate serve``: reviews at a fixed rate over TLS, presenting the
API server's client certificate, on kept-alive connections.

    python -m bench.sustained [--rate 500] [--seconds 60] [--connections 8]

A fresh dev control plane (etcd, kube-apiserver, the webhook serving and registered); in it, an old
namespace with five Services and a new one migrating from it. The load (``bench.load``, a process of
its own) sends the typical Deployment of the benchmarks as an UPDATE review (five rewrites each) to
/mutate: request n leaves at n / rate seconds, whatever the answers before it. Reports errors and
p50 / p99 / max latency; exits 1 on any error (a rate not held is reported, not failed: speed is a figure).
"""

from __future__ import annotations

import argparse
import json
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench import reviews
from bench.run import percentile
from webhook.core import labels
from webhook.core.settings import Settings
from webhook.dev import seed
from webhook.dev.environment import DevEnvironment
from webhook.kube.client import Kube

OLD, NEW = "sustained-old", "sustained-new"


def post_once(env: DevEnvironment, body: bytes) -> dict[str, Any]:
    context = ssl.create_default_context(cafile=str(env.workdir / "webhook-certs" / "ca.crt"))
    context.load_cert_chain(*env.control_plane.admission_client)
    request = urllib.request.Request(
        f"https://127.0.0.1:{env.webhook_port}/mutate", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, context=context, timeout=10) as answer:  # noqa: S310
        return dict(json.loads(answer.read())["response"])


def load(env: DevEnvironment, body_file: Path, *, count: int, connections: int, rate: float) -> dict[str, Any]:
    cert, key = env.control_plane.admission_client
    done = subprocess.run(
        [
            sys.executable, "-m", "bench.load", f"https://127.0.0.1:{env.webhook_port}/mutate", str(body_file),
            str(env.workdir / "webhook-certs" / "ca.crt"), str(count), str(connections), str(cert), str(key),
            str(rate),
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout))


def run(workdir: Path, *, rate: float, seconds: float, connections: int) -> dict[str, Any]:
    env = DevEnvironment(workdir / "dev")
    env.up(Settings())
    try:
        kube = Kube.connect(str(env.kubeconfig))
        kube.apply(seed.namespace(OLD, {labels.SOURCE: "true"}))
        kube.apply(seed.namespace(NEW, {labels.MIGRATE_FROM: OLD}))
        for n in range(5):
            kube.apply(seed.service(f"svc{n}", OLD, f"app{n}"))
        typical = reviews.typical_deployment(NEW, OLD)
        body = reviews.review_body(typical, operation="UPDATE", old=typical)
        deadline = time.monotonic() + 30
        while "patch" not in post_once(env, body):  # the webhook's cache has seen the scenario
            if time.monotonic() > deadline:
                raise TimeoutError("the webhook never rewrote the scenario's references")
            time.sleep(0.1)
        body_file = workdir / "body.json"
        body_file.write_bytes(body)
        load(env, body_file, count=1000, connections=connections, rate=0)  # warm-up
        result = load(env, body_file, count=round(rate * seconds), connections=connections, rate=rate)
    finally:
        env.down()
    latencies = result["latencies"]
    return {
        "rate_asked": rate,
        "rate_held": len(latencies) / result["seconds"] if latencies else 0.0,
        "seconds": result["seconds"],
        "requests": round(rate * seconds),
        "answered": len(latencies),
        "errors": len(result["errors"]),
        "first_errors": result["errors"][:5],
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
        "schedule_lag_max_ms": result["lag_max_ms"],
        "connections": connections,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.sustained", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500, help="reviews per second (default 500)")
    parser.add_argument("--seconds", type=float, default=60, help="how long (default 60)")
    parser.add_argument("--connections", type=int, default=8, help="kept-alive connections (default 8)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nsmigrate-sustained-") as scratch:
        result = run(Path(scratch), rate=args.rate, seconds=args.seconds, connections=args.connections)
    print(json.dumps(result, indent=2))
    print(
        f"sustained: {result['requests']} reviews at {result['rate_asked']:.0f}/s asked, {result['rate_held']:.0f}/s "
        f"held over {result['seconds']:.1f} s, {result['errors']} errors, p50 {result['p50_ms']:.2f} ms, "
        f"p99 {result['p99_ms']:.2f} ms, max {result['max_ms']:.1f} ms"
    )
    if result["rate_held"] < 0.95 * result["rate_asked"]:  # a figure of this machine, reported, never a failure
        print(f"sustained: the asked rate was not held ({result['rate_held']:.0f}/s of {result['rate_asked']:.0f}/s)")
    return 0 if result["errors"] == 0 else 1  # an error answer is a defect, whatever the machine


if __name__ == "__main__":
    sys.exit(main())
