"""``nsmigrate plan``: what nsmigrate would do with these manifests; writes nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from webhook.cli.snapshot import print_data, snapshot
from webhook.core import report
from webhook.core.fields import JsonObject


def run(args: argparse.Namespace) -> int:
    manifests = read_manifests(args.filename)
    if args.to:
        for manifest in manifests:
            if manifest.get("kind") != "Namespace":
                manifest.setdefault("metadata", {})["namespace"] = args.to
    cache, config = snapshot(args)
    for manifest in manifests:  # the plan sees the manifests as if they were applied, nothing is written
        if manifest.get("kind") in cache.kinds:
            cache.apply(str(manifest["kind"]), "ADDED", manifest)
    plans = report.plan_manifests(cache, config, report.workloads_of(manifests))
    plans += report.plan_configmap_manifests(cache, config, report.configmaps_of(manifests))
    if args.output in ("json", "yaml"):
        print_data([plan.as_json() for plan in plans], args.output)
        return 0
    for plan in plans:
        print(plan.workload)
        for rewrite in plan.rewrites:
            rules = ", ".join(dict.fromkeys(rewrite.rules))
            print(f"  rewrite {rewrite.where}: {rewrite.before} -> {rewrite.after} ({rules})")
        for proxy in plan.proxies:
            verb = "create proxy" if proxy.step == "create" else "handover of the live Service, once Available:"
            held = "; ".join(c.describe() for c in plan.held_by[f"{proxy.namespace}/{proxy.name}"]) or "nobody"
            print(f"  {verb} {proxy.namespace}/{proxy.name} -> {proxy.target} (kept alive by {held})")
            if proxy.step == "handover":
                print(f"    it keeps its cluster IP, ports and node ports; its endpoints become {proxy.target}'s")
        for warning in plan.warnings:
            print(f"  note: {warning}")
        if not (plan.rewrites or plan.proxies or plan.warnings):
            print("  nothing to do")
    return 0


def read_manifests(paths: list[Path]) -> list[JsonObject]:
    files = [f for path in paths for f in (sorted(path.glob("*.y*ml")) if path.is_dir() else [path])]
    return [
        document for file in files for document in yaml.safe_load_all(file.read_text()) if isinstance(document, dict)
    ]
