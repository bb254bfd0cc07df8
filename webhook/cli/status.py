"""``nsmigrate status``: proxies, their targets and remaining callers; Services awaiting handover."""

from __future__ import annotations

import argparse

from webhook.cli.snapshot import print_data, snapshot
from webhook.core import render, report


def run(args: argparse.Namespace) -> int:
    cache, config = snapshot(args)
    proxies = report.proxy_statuses(cache, config, namespace=args.namespace)
    waiting = report.awaiting_handover(cache, config, namespace=args.namespace)
    mirrored = report.mirror_statuses(cache, config, namespace=args.namespace)
    mirrored_json = [m.as_json() for m in mirrored]
    if args.output in ("json", "yaml"):
        print_data(
            [p.as_json() for p in proxies] + [report.handover_json(h) for h in waiting] + mirrored_json, args.output
        )
        return 0
    print(render.status_text(proxies, waiting, mirrored))
    return 0
