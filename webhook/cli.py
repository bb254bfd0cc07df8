"""The ``nsmigrate`` command line."""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from webhook import certs, demo, settings
from webhook.devcluster.controlplane import COMPONENTS
from webhook.devcluster.environment import DevEnvironment
from webhook.handover import plan_handover
from webhook.kube import Kube, KubeCluster
from webhook.server import serve

DEFAULT_DEV_DIR = Path.home() / ".cache" / "nsmigrate" / "dev"


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
    dev.add_argument("--dir", type=Path, default=DEFAULT_DEV_DIR, help=f"state directory (default {DEFAULT_DEV_DIR})")
    dev_commands = dev.add_subparsers(title="dev commands", required=True)
    up = dev_commands.add_parser("up", help="start it and print the kubeconfig path")
    up.add_argument("--bare", action="store_true", help="etcd and kube-apiserver only (no controllers, nodes, DNS)")
    up.set_defaults(run=_dev_up)
    dev_commands.add_parser("down", help="stop it").set_defaults(run=_dev_down)

    demo = commands.add_parser("demo", help="run the seed migration on a fresh local control plane")
    demo.set_defaults(run=_demo)

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
    if (previous := DevEnvironment.load(args.dir)) is not None:
        previous.down()
    environment = DevEnvironment(args.dir)
    environment.up(settings.from_env(), components=() if args.bare else COMPONENTS)
    print(environment.kubeconfig)
    return 0


def _dev_down(args: argparse.Namespace) -> int:
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


def _demo(args: argparse.Namespace) -> int:
    demo.run()
    return 0
