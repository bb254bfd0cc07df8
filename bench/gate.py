"""What the NetworkPolicy gate costs a reconcile pass, in process: ``python -m bench.gate [--services N]``.

A watch cache (the webhook's own structure) holds N live Services of ``legacy`` each taken over by a
Service of ``team`` whose Deployment is Available, and a caller of each in ``legacy`` (N handovers to
decide every pass). One ``plan_reconcile`` is timed, fastest of several, alternating three clusters:
- ``none``: no NetworkPolicy (the gate finds nothing to evaluate);
- ``admitted``: ``team`` denies all ingress and admits ``legacy`` (every caller evaluated, all admitted);
- ``held``: ``team`` denies all ingress (every caller evaluated and refused: N handovers held).
The ratios against ``none`` are the gate's price; results go to ``bench/results.json`` under ``gate``.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from bench.run import RESULTS
from tests.memory import MemoryCluster
from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.core.reconcile import Orphans, plan_reconcile
from webhook.core.settings import Settings
from webhook.dev import seed
from webhook.kube.cache import KINDS, Cache

SETTINGS = Settings()


def available(manifest: JsonObject) -> JsonObject:
    manifest["status"] = {"readyReplicas": 1, "conditions": [{"type": "Available", "status": "True"}]}
    return manifest


def policy(name: str, **spec: Any) -> JsonObject:
    return {
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": "team"},
        "spec": {"podSelector": {}, **spec},
    }


def cluster(count: int, policies: list[JsonObject]) -> Cache:
    objects: dict[str, list[JsonObject]] = {kind: [] for kind in KINDS}
    objects["Namespace"] = [
        seed.namespace("legacy", {labels.SOURCE: "true"}),
        seed.namespace("team", {labels.MIGRATE_FROM: "legacy"}),
    ]
    for number in range(count):
        name = f"svc{number}"
        objects["Service"] += [seed.service(name, "legacy", name), seed.service(name, "team", name)]
        objects["Deployment"] += [
            available(seed.deployment(name, "team", {})),
            seed.deployment(f"caller{number}", "legacy", {"URL": f"http://{name}/"}),
        ]
    objects["NetworkPolicy"] = policies
    cache = Cache(MemoryCluster())
    for kind, found in objects.items():
        cache.replace(kind, found)
    return cache


def best_ms(cache: Cache, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        plan_reconcile(cache, SETTINGS, now=0.0, orphans=Orphans())
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gate")
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    deny = policy("default-deny", policyTypes=["Ingress"])
    admit = policy(
        "from-legacy", ingress=[{"from": [{"namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: "legacy"}}}]}]
    )
    clusters = {
        "none": cluster(args.services, []),
        "admitted": cluster(args.services, [deny, admit]),
        "held": cluster(args.services, [deny]),
    }
    for variant, handovers in (("none", args.services), ("admitted", args.services), ("held", 0)):
        planned = plan_reconcile(clusters[variant], SETTINGS, now=0.0, orphans=Orphans())
        if sum(a.verb == "handover" for a in planned) != handovers:
            raise SystemExit(f"{variant}: expected {handovers} handovers planned")
    best: dict[str, float] = {}
    for _ in range(3):  # alternating batches: the machine's drift touches every variant alike
        for variant, cache in clusters.items():
            best[variant] = min(best.get(variant, float("inf")), best_ms(cache, args.rounds))
    figures = {
        "services": args.services,
        **{f"pass_{variant}_ms": round(ms, 1) for variant, ms in best.items()},
        "gate_admitted_vs_none": round(best["admitted"] / best["none"], 2),
        "gate_held_vs_none": round(best["held"] / best["none"], 2),
    }
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["gate"] = figures
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
