"""The ``nsmigrate`` command line."""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from webhook import certs, demo, labels, report, settings, watch
from webhook.cache import Cache
from webhook.devcluster.controlplane import COMPONENTS
from webhook.devcluster.environment import DevEnvironment
from webhook.handover import plan_handover
from webhook.kube import Kube, KubeCluster
from webhook.objects import JsonObject
from webhook.server import serve
from webhook.settings import Settings

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

    serve = commands.add_parser("serve", help="run the webhook (gunicorn, TLS)", parents=[serve_arguments()])
    serve.set_defaults(run=_serve)

    make_certs = commands.add_parser("certs", help="make a CA and a serving certificate")
    make_certs.add_argument("--out", type=Path, default=Path("certs"), help="directory to write to (default certs/)")
    make_certs.add_argument("--dns", action="append", default=[], help="DNS SAN (repeatable)")
    make_certs.add_argument("--ip", action="append", default=[], help="IP SAN (repeatable)")
    make_certs.add_argument("--days", type=int, default=365, help="validity of the serving certificate")
    make_certs.set_defaults(run=_certs)

    dev = commands.add_parser("dev", help="a local control plane with the webhook registered")
    dev.add_argument("--dir", type=Path, default=DEV_DIR, help=f"state directory (default {DEV_DIR})")
    dev_commands = dev.add_subparsers(title="dev commands", required=True)
    up = dev_commands.add_parser("up", help="start it and print the kubeconfig path")
    up.add_argument("--bare", action="store_true", help="etcd and kube-apiserver only (no controllers, nodes, DNS)")
    up.set_defaults(run=_dev_up)
    dev_commands.add_parser("down", help="stop it").set_defaults(run=_dev_down)

    demo = commands.add_parser("demo", help="run the seed migration on a fresh local control plane")
    demo.set_defaults(run=_demo)

    status = commands.add_parser("status", help="proxies, their targets and callers; Services awaiting handover")
    status.add_argument("-n", "--namespace", help="only this namespace")
    plan = commands.add_parser("plan", help="what nsmigrate will do with these manifests (writes nothing)")
    plan.add_argument("-f", "--filename", action="append", required=True, type=Path, help="file or directory")
    plan.add_argument("--to", metavar="NAMESPACE", help="deploy the manifests into this namespace")
    audit = commands.add_parser("audit", help="denied and forced proxy deletions")
    audit.add_argument("--since", help="only the last DURATION (30s, 15m, 2h, 7d)")
    audit.add_argument("--log", type=Path, help="also read the webhook's JSON log lines from this file")
    graph = commands.add_parser("graph", help="who calls whom across namespaces, proxies drawn as such")
    graph.add_argument("-n", "--namespace", action="append", help="namespaces to draw (default: all migrating)")
    for command, run in ((status, _status), (plan, _plan), (audit, _audit), (graph, _graph)):
        command.add_argument("--kubeconfig", help="kubeconfig (default: KUBECONFIG, in-cluster, ~/.kube/config)")
        command.add_argument("--cluster-domain", default="cluster.local", help="cluster DNS domain")
        formats = ["text", "json"] if command is not graph else ["mermaid", "dot", "png", "json"]
        command.add_argument("-o", "--output", choices=formats, default=formats[0], help="output format")
        command.set_defaults(run=run)
    graph.add_argument("--out", type=Path, help="with -o png: the file to write (default graph.png)")

    for name, run, text in (
        ("handover", _handover, "convert a live old-namespace Service into the proxy (its new side must be Available)"),
        ("rollback", _rollback, "restore a handed-over Service; the automatic handover then leaves it alone"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("service", metavar="NAMESPACE/NAME")
        command.add_argument("--kubeconfig", help="kubeconfig (default: KUBECONFIG, in-cluster, ~/.kube/config)")
        command.add_argument("--cluster-domain", default="cluster.local", help="cluster DNS domain")
        command.set_defaults(run=run)
    return parser


def serve_arguments() -> argparse.ArgumentParser:
    """The flags of ``nsmigrate serve``; every other setting comes from NSMIGRATE_* variables."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--host", help="address to bind (default 0.0.0.0)")
    parser.add_argument("--port", type=int, help="HTTPS port (default 8443)")
    parser.add_argument("--cert-file", help="serving certificate, PEM (default certs/tls.crt)")
    parser.add_argument("--key-file", help="its private key, PEM (default certs/tls.key)")
    parser.add_argument("--kubeconfig", help="kubeconfig (default: in-cluster, then ~/.kube/config)")
    parser.add_argument("--cluster-domain", help="cluster DNS domain (default cluster.local)")
    parser.add_argument("--failure-policy", choices=["Fail", "Ignore"], help="answer to nsmigrate's own errors")
    return parser


def serve_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the serve flags override (unset flags leave the environment's values)."""
    names = ("host", "port", "cert_file", "key_file", "kubeconfig", "cluster_domain", "failure_policy")
    return {name: getattr(args, name) for name in names}


def _serve(args: argparse.Namespace) -> int:
    serve(settings.from_env(**serve_overrides(args)))
    return 0


def _certs(args: argparse.Namespace) -> int:
    if not args.dns and not args.ip:
        args.dns = ["localhost"]
        args.ip = ["127.0.0.1"]
    ca = certs.make_ca()
    ca_files = ca.write(args.out, "ca")
    serving_files = certs.make_serving_cert(ca, dns_names=args.dns, ip_addresses=args.ip, days=args.days).write(
        args.out, "tls"
    )
    for path in (*ca_files, *serving_files):
        print(path)
    return 0


def _dev_up(args: argparse.Namespace) -> int:
    args.dir = args.dir.expanduser()
    if (previous := DevEnvironment.load(args.dir)) is not None:
        previous.down()
    environment = DevEnvironment(args.dir)
    environment.up(settings.from_env(), components=() if args.bare else COMPONENTS)
    print(environment.kubeconfig)
    return 0


def _dev_down(args: argparse.Namespace) -> int:
    args.dir = args.dir.expanduser()
    environment = DevEnvironment.load(args.dir)
    if environment is None:
        print(f"nothing running (no state in {args.dir})", file=sys.stderr)
        return 0
    environment.down()
    return 0


def _service_argument(text: str) -> tuple[str, str]:
    namespace, _, name = text.partition("/")
    if not namespace or not name:
        raise ValueError(f"expected NAMESPACE/NAME, got {text!r}")
    return namespace, name


def _handover(args: argparse.Namespace) -> int:
    namespace, name = _service_argument(args.service)
    cluster = KubeCluster(Kube.connect(args.kubeconfig))
    config = settings.from_env(cluster_domain=args.cluster_domain)
    try:
        plan = plan_handover(cluster, config, namespace=namespace, name=name)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not plan.ready:
        print(f"error: not handing over {plan.where} yet: {plan.reason}", file=sys.stderr)
        return 1
    cluster.hand_over(namespace, name, target=plan.target, cluster_domain=config.cluster_domain)
    print(f"service/{name} -n {namespace} handed over: now a proxy for {plan.target.namespace}/{plan.target.name}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    namespace, name = _service_argument(args.service)
    cluster = KubeCluster(Kube.connect(args.kubeconfig))
    try:
        cluster.roll_back(namespace, name, now=datetime.datetime.now(datetime.UTC))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"service/{name} -n {namespace} rolled back: its original spec is restored; no automatic handover")
    return 0


def _snapshot(args: argparse.Namespace) -> tuple[Cache, Settings]:
    """The cluster as one list of each kind, in the webhook's own cache structure."""
    kube = Kube.connect(args.kubeconfig)
    cache = watch.snapshot(Cache(KubeCluster(kube)), kube)
    config = settings.from_env(cluster_domain=args.cluster_domain)
    if getattr(args, "namespace", None):
        for namespace in [args.namespace] if isinstance(args.namespace, str) else args.namespace:
            if cache.namespace(namespace) is None:
                raise ValueError(f'namespaces "{namespace}" not found')
    return cache, config


def _status(args: argparse.Namespace) -> int:
    cache, config = _snapshot(args)
    proxies = report.proxy_statuses(cache, config, namespace=args.namespace)
    waiting = report.awaiting_handover(cache, config, namespace=args.namespace)
    if args.output == "json":
        entries = [p.as_json() for p in proxies] + [report.handover_json(h) for h in waiting]
        print(json.dumps(entries, indent=2))
        return 0
    print(report.status_text(proxies, waiting))
    return 0


def _plan(args: argparse.Namespace) -> int:
    manifests = _read_manifests(args.filename)
    if args.to:
        for manifest in manifests:
            if manifest.get("kind") != "Namespace":
                manifest.setdefault("metadata", {})["namespace"] = args.to
    cache, config = _snapshot(args)
    for manifest in manifests:  # the plan sees the manifests as if they were applied, nothing is written
        if manifest.get("kind") in cache.kinds:
            cache.apply(str(manifest["kind"]), "ADDED", manifest)
    plans = report.plan_manifests(cache, config, report.workloads_of(manifests))
    if args.output == "json":
        print(json.dumps([plan.as_json() for plan in plans], indent=2))
        return 0
    for plan in plans:
        print(plan.workload)
        for rewrite in plan.rewrites:
            print(f"  rewrite env {rewrite.env} ({rewrite.container}): {rewrite.before} -> {rewrite.after}")
        for proxy in plan.proxies:
            verb = "create proxy" if proxy.step == "create" else "handover of the live Service, once Available:"
            held = "; ".join(c.describe() for c in plan.held_by[f"{proxy.namespace}/{proxy.name}"]) or "nobody"
            print(f"  {verb} {proxy.namespace}/{proxy.name} -> {proxy.target} (kept alive by {held})")
        for warning in plan.warnings:
            print(f"  note: {warning}")
        if not (plan.rewrites or plan.proxies or plan.warnings):
            print("  nothing to do")
    return 0


def _audit(args: argparse.Namespace) -> int:
    kube = Kube.connect(args.kubeconfig)
    entries = report.audit_from_events(kube.list_all("Event"))
    if args.log:
        entries += report.audit_from_log(args.log.read_text().splitlines())
    if args.since:
        cutoff = datetime.datetime.now(datetime.UTC) - _duration(args.since)
        entries = [e for e in entries if _parse_time(str(e.get("time", ""))) >= cutoff]
    entries.sort(key=lambda e: str(e.get("time", "")), reverse=True)
    if args.output == "json":
        print(json.dumps(entries, indent=2))
        return 0
    rows = []
    for entry in entries:
        who = entry.get("user") or "-"
        detail = "; ".join(entry.get("callers") or []) if entry["source"] == "log" else entry.get("message", "")
        rows.append([str(entry.get("time", "")), entry["event"], entry["proxy"], who, entry["source"], detail])
    print(report.table(["TIME", "EVENT", "PROXY", "USER", "FROM", "CALLERS / MESSAGE"], rows))
    return 0


def _graph(args: argparse.Namespace) -> int:
    cache, config = _snapshot(args)
    namespaces = args.namespace or _migrating(cache)
    drawn = report.call_graph(cache, config, namespaces=namespaces)
    if args.output == "json":
        edges = [{"from": e.caller, "to": e.service, "proxy": e.dashed} for e in drawn.edges]
        print(json.dumps({"namespaces": drawn.namespaces, "proxies": sorted(drawn.proxies), "edges": edges}, indent=2))
    elif args.output == "mermaid":
        print(report.mermaid(drawn), end="")
    elif args.output == "dot":
        print(report.dot(drawn), end="")
    else:
        graphviz = shutil.which("dot")
        if graphviz is None:
            raise ValueError(
                "-o png needs Graphviz's `dot` on PATH (apt-get install graphviz); -o dot or mermaid need nothing"
            )
        out = args.out or Path("graph.png")
        subprocess.run([graphviz, "-Tpng", "-o", str(out)], input=report.dot(drawn), text=True, check=True)
        print(out)
    return 0


def _migrating(cache: Cache) -> list[str]:
    """The namespaces a migration involves: those labelled migrate-from, and their old namespaces."""
    found = set()
    for namespace in cache.namespaces():
        if old := namespace.labels.get(labels.MIGRATE_FROM):
            found |= {namespace.name, old}
    return sorted(found)


def _read_manifests(paths: list[Path]) -> list[JsonObject]:
    files = [f for path in paths for f in (sorted(path.glob("*.y*ml")) if path.is_dir() else [path])]
    return [
        document for file in files for document in yaml.safe_load_all(file.read_text()) if isinstance(document, dict)
    ]


def _duration(text: str) -> datetime.timedelta:
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise ValueError(f"--since takes a duration like 30s, 15m, 2h or 7d, not {text!r}")
    return datetime.timedelta(**{units[text[-1]]: int(text[:-1])})


def _parse_time(text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.datetime.min.replace(tzinfo=datetime.UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _demo(args: argparse.Namespace) -> int:
    demo.run()
    return 0
