"""The ``nsmigrate`` command line: the one argument parser; each command runs from its own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from webhook.cli import audit, certs, check, demo, dev, finalize, graph, handover, plan, serve, status
from webhook.core.settings import Settings

DEV_DIR = Path("~/.cache/nsmigrate/dev")
"""Where ``dev up`` keeps its state; expanded when used, not at import."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        result: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # expected failures (no cluster, no binaries) read as one message
        if getattr(args, "debug", False):
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nsmigrate", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(title="commands")

    serve_parser = commands.add_parser(
        "serve", help="run the webhook (gunicorn, TLS)", parents=[serve.serve_arguments()]
    )
    serve_parser.set_defaults(run=serve.run)

    make_certs = commands.add_parser("certs", help="make a CA and a serving certificate")
    make_certs.add_argument("--out", type=Path, default=Path("certs"), help="directory to write to (default certs/)")
    make_certs.add_argument("--dns", action="append", default=[], help="DNS SAN (repeatable)")
    make_certs.add_argument("--ip", action="append", default=[], help="IP SAN (repeatable)")
    make_certs.add_argument("--days", type=int, default=365, help="validity of the serving certificate")
    make_certs.set_defaults(run=certs.run)

    dev_parser = commands.add_parser("dev", help="a local control plane with the webhook registered")
    dev_parser.add_argument("--dir", type=Path, default=DEV_DIR, help=f"state directory (default {DEV_DIR})")
    dev_commands = dev_parser.add_subparsers(title="dev commands", required=True)
    up = dev_commands.add_parser("up", help="start it and print the kubeconfig path")
    up.add_argument("--bare", action="store_true", help="etcd and kube-apiserver only (no controllers, nodes, DNS)")
    up.set_defaults(run=dev.up)
    dev_commands.add_parser("down", help="stop it").set_defaults(run=dev.down)

    demo_parser = commands.add_parser("demo", help="run the seed migration on a fresh local control plane")
    demo_parser.set_defaults(run=demo.run)

    status_parser = commands.add_parser("status", help="proxies, their targets and callers; Services awaiting handover")
    status_parser.add_argument("-n", "--namespace", help="only this namespace")
    plan_parser = commands.add_parser("plan", help="what nsmigrate will do with these manifests (writes nothing)")
    plan_parser.add_argument("-f", "--filename", action="append", required=True, type=Path, help="file or directory")
    plan_parser.add_argument("--to", metavar="NAMESPACE", help="deploy the manifests into this namespace")
    audit_parser = commands.add_parser("audit", help="denied and forced proxy deletions")
    audit_parser.add_argument("--since", help="only the last DURATION (30s, 15m, 2h, 7d)")
    audit_parser.add_argument("--log", type=Path, help="also read the webhook's JSON log lines from this file")
    audit_parser.add_argument("-n", "--namespace", help="only proxies of this namespace")
    graph_parser = commands.add_parser("graph", help="who calls whom across namespaces, proxies drawn as such")
    graph_parser.add_argument("-n", "--namespace", action="append", help="namespaces to draw (default: all migrating)")
    for command, run in (
        (status_parser, status.run),
        (plan_parser, plan.run),
        (audit_parser, audit.run),
        (graph_parser, graph.run),
    ):
        command.add_argument("--kubeconfig", help="kubeconfig (default: KUBECONFIG, in-cluster, ~/.kube/config)")
        command.add_argument(
            "--cluster-domain",
            help=f"cluster DNS domain (default: NSMIGRATE_CLUSTER_DOMAIN, else {Settings().cluster_domain})",
        )
        command.add_argument("--context", help="kubeconfig context (default: its current context)")
        formats = ["text", "json", "yaml"] if command is not graph_parser else ["mermaid", "dot", "png", "json", "yaml"]
        command.add_argument("-o", "--output", choices=formats, default=formats[0], help="output format")
        command.set_defaults(run=run)
    graph_parser.add_argument("--out", type=Path, help="with -o png: the file to write (default graph.png)")

    check_help = "admission goes through nsmigrate: a dry-run create via the API server (`helm test`)"
    commands.add_parser("check", help=check_help, parents=[check.arguments()]).set_defaults(run=check.run)

    for name, run, text in (
        (
            "handover",
            handover.handover,
            "hand a live old-namespace Service over: it keeps its IP and serves the new pods (new side Available)",
        ),
        ("rollback", handover.rollback, "restore a handed-over Service; the automatic handover then leaves it alone"),
        ("finalize", finalize.run, "turn a mirrored Service into the ExternalName proxy, when that is safe"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("service", metavar="NAMESPACE/NAME")
        command.add_argument("--kubeconfig", help="kubeconfig (default: KUBECONFIG, in-cluster, ~/.kube/config)")
        command.add_argument("--context", help="kubeconfig context (default: its current context)")
        command.add_argument(
            "--cluster-domain",
            help=f"cluster DNS domain (default: NSMIGRATE_CLUSTER_DOMAIN, else {Settings().cluster_domain})",
        )
        command.set_defaults(run=run)
    return parser
