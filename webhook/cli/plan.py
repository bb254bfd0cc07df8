"""``nsmigrate plan``: what nsmigrate would do with these manifests; writes nothing."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from webhook.cli.snapshot import connect, print_data, snapshot
from webhook.core import readiness, render, report
from webhook.core.fields import JsonObject
from webhook.core.findings import Finding
from webhook.core.identity import identity_findings
from webhook.core.migration import migration_of
from webhook.core.objects import workload_from_object
from webhook.core.settings import Settings
from webhook.kube import checks
from webhook.kube.cache import Cache
from webhook.kube.client import Kube


def run(args: argparse.Namespace) -> int:
    manifests = read_manifests(args.filename)
    if args.to:
        for manifest in manifests:
            if manifest.get("kind") != "Namespace":
                manifest.setdefault("metadata", {})["namespace"] = args.to
    kube = connect(args)
    cache, config = snapshot(args, kube)
    for manifest in manifests:  # the plan sees the manifests as if they were applied, nothing is written
        if manifest.get("kind") in cache.kinds:
            cache.apply(str(manifest["kind"]), "ADDED", manifest)
    workloads = report.workloads_of(manifests)
    plans = report.plan_manifests(cache, config, workloads)
    for plan, obj in zip(plans, workloads, strict=True):
        plan.findings = list(dict.fromkeys(plan.findings + live_findings(kube, cache, config, obj)))
    plans += report.plan_configmap_manifests(cache, config, report.configmaps_of(manifests))
    if args.output in ("json", "yaml"):
        print_data([plan.as_json() for plan in plans], args.output)
        return 0
    print(render.plan_text(plans), end="")
    return 0


def live_findings(kube: Kube, cache: Cache, config: Settings, obj: JsonObject) -> list[Finding]:
    """What only the API server can tell of a workload about to move, asked as the operator: Secrets it
    needs, whether its namespace admits a Pod of its template, what grants its old ServiceAccount holds."""
    workload = workload_from_object(obj)
    migration, _ = migration_of(workload.namespace, view=cache, settings=config) if workload else (None, "")
    if workload is None or migration is None:
        return []
    findings = readiness.workload_findings(checks.LiveInventory(cache, kube), workload)[0]
    if refusal := checks.pod_refusal(kube, obj):
        findings.append(readiness.rejected(workload, refusal))
    account = next((need.name for need in workload.needs if need.kind == "ServiceAccount"), "default")
    return findings + identity_findings(
        workload,
        old=migration.old,
        bindings=checks.bindings(kube),
        old_account_annotations=checks.account_annotations(kube, migration.old, account),
        mesh_policies=checks.mesh_policies(kube),
    )


def read_manifests(paths: list[Path]) -> list[JsonObject]:
    files = [f for path in paths for f in (sorted(path.glob("*.y*ml")) if path.is_dir() else [path])]
    return [
        document for file in files for document in yaml.safe_load_all(file.read_text()) if isinstance(document, dict)
    ]
