"""What a consistent read costs on the dev control plane: a GET against a LIST of one object, each
measured alone and right after a write.

A freshness barrier needs the API server's current resourceVersion, which only a LIST answers; a GET
answers for one object. ``python -m bench.reads`` prints p50 and max of each, in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from webhook.dev import seed
from webhook.dev.environment import DevEnvironment
from webhook.kube.client import Kube


def timed(read: Callable[[], object]) -> float:
    started = time.perf_counter()
    read()
    return time.perf_counter() - started


def measure(kube: Kube, rounds: int) -> dict[str, list[float]]:
    kube.apply(seed.namespace("bench-reads"))

    def get() -> object:
        return kube.get("Namespace", None, "bench-reads")

    def listed() -> object:
        return kube.list_page("Namespace", limit=1, token="")

    found: dict[str, list[float]] = {"get": [], "list": [], "get after a write": [], "list after a write": []}
    for index in range(rounds):
        found["get"].append(timed(get))
        found["list"].append(timed(listed))
        kube.apply(seed.deployment(f"w{index}", "bench-reads", {}))
        found["list after a write"].append(timed(listed))
        kube.apply(seed.deployment(f"v{index}", "bench-reads", {}))
        found["get after a write"].append(timed(get))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.reads")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nsmigrate-reads-") as scratch:
        env = DevEnvironment(Path(scratch))
        env.up()
        try:
            found = measure(Kube.connect(str(env.kubeconfig)), args.rounds)
        finally:
            env.down()
    for name, seconds in found.items():
        print(f"{name}: p50 {statistics.median(seconds) * 1000:.1f} ms, max {max(seconds) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
