"""``nsmigrate status``: proxies, their targets and remaining callers; Services awaiting handover."""

from __future__ import annotations

import argparse
import json

from webhook.cli.snapshot import snapshot
from webhook.core import report


def run(args: argparse.Namespace) -> int:
    cache, config = snapshot(args)
    proxies = report.proxy_statuses(cache, config, namespace=args.namespace)
    waiting = report.awaiting_handover(cache, config, namespace=args.namespace)
    mirrored = report.mirror_statuses(cache, config, namespace=args.namespace)
    mirrored_json = [m.as_json() for m in mirrored]
    if args.output == "json":
        entries = [p.as_json() for p in proxies] + [report.handover_json(h) for h in waiting] + mirrored_json
        print(json.dumps(entries, indent=2))
        return 0
    print(report.status_text(proxies, waiting, mirrored))
    return 0
