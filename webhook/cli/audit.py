"""``nsmigrate audit``: denied and forced proxy deletions, from Events and the webhook's log."""

from __future__ import annotations

import argparse
import datetime

from webhook.cli.snapshot import print_data
from webhook.core import audit, render, timestamps
from webhook.kube.client import Kube


def run(args: argparse.Namespace) -> int:
    kube = Kube.connect(args.kubeconfig, context=args.context)
    entries = audit.audit_from_events(kube.list_all("Event"))
    if args.log:
        entries += audit.audit_from_log(args.log.read_text().splitlines())
    if args.since:
        cutoff = datetime.datetime.now(datetime.UTC) - _duration(args.since)
        entries = [e for e in entries if _parse_time(str(e.get("time", ""))) >= cutoff]
    if args.namespace:
        entries = [e for e in entries if str(e["proxy"]).startswith(f"{args.namespace}/")]
    entries.sort(key=lambda e: str(e.get("time", "")), reverse=True)
    if args.output in ("json", "yaml"):
        print_data(entries, args.output)
        return 0
    rows = []
    for entry in entries:
        who = entry.get("user") or "-"
        detail = "; ".join(entry.get("callers") or []) if entry["source"] == "log" else entry.get("message", "")
        rows.append([str(entry.get("time", "")), entry["event"], entry["proxy"], who, entry["source"], detail])
    print(render.table(["TIME", "EVENT", "PROXY", "USER", "FROM", "CALLERS / MESSAGE"], rows))
    return 0


def _duration(text: str) -> datetime.timedelta:
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise ValueError(f"--since takes a duration like 30s, 15m, 2h or 7d, not {text!r}")
    return datetime.timedelta(**{units[text[-1]]: int(text[:-1])})


def _parse_time(text: str) -> datetime.datetime:
    return timestamps.parse(text) or datetime.datetime.min.replace(tzinfo=datetime.UTC)
