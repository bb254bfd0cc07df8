"""``nsmigrate status``: proxies, their targets and remaining callers; Services awaiting handover."""

from __future__ import annotations

import argparse

from webhook.cli.snapshot import connect, print_data, snapshot
from webhook.core import consumers as consumers_of
from webhook.core import readiness, render, report
from webhook.kube.consumers import list_consumers


def run(args: argparse.Namespace) -> int:
    kube = connect(args)
    cache, config = snapshot(args, kube)
    proxies = report.proxy_statuses(cache, config, namespace=args.namespace)
    waiting = report.awaiting_handover(cache, config, namespace=args.namespace)
    mirrored = report.mirror_statuses(cache, config, namespace=args.namespace)
    found = list_consumers(kube)
    consumers, route_findings = consumers_of.judge_backends(cache, found.routes, found.grants)
    consumers += consumers_of.judge_monitors(cache, found.monitors)
    consumers += consumers_of.mesh_consumers(cache, found.namespace_annotations)
    findings = readiness.all_findings(cache, config) + route_findings
    if args.namespace:
        findings = [f for f in findings if f.namespace == args.namespace]
        consumers = [
            c for c in consumers if args.namespace in (c.object.split(" ")[-1].split("/")[0], c.service.split("/")[0])
        ]
    if args.output in ("json", "yaml"):
        data = (
            [p.as_json() for p in proxies]
            + [report.handover_json(h) for h in waiting]
            + [m.as_json() for m in mirrored]
        )
        print_data(data + [f.as_json() for f in findings] + [c.as_json() for c in consumers], args.output)
        return 0
    print(render.status_text(proxies, waiting, mirrored, findings=findings, consumers=consumers))
    return 0
