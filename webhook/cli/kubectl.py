"""``kubectl nsmigrate``: the operator commands as a kubectl plugin, with kubectl's usual flags.

kubectl runs the ``kubectl-nsmigrate`` executable with the words after ``kubectl nsmigrate``. This
module only translates kubectl's flags (``--kubeconfig``, ``--context``, ``-n``, ``-A``, ``-o``) into
the ``nsmigrate`` command's own and runs it. As kubectl does: ``-n`` names the namespace of a Service
(``handover NAME -n NS``) or where manifests go (``plan -f``); a Service may be written ``NAME`` or
``service/NAME``; exit codes are 0 (done), 1 (failed) and 2 (bad usage).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from webhook.cli import main as nsmigrate
from webhook.core.settings import Settings
from webhook.kube.client import Kube

PROG = "kubectl nsmigrate"
LISTING_FORMATS = ("json", "yaml", "wide")
"""``-o`` of status, plan and audit; ``wide`` is their table, which never truncates a column."""
GRAPH_FORMATS = ("json", "yaml", "mermaid", "dot", "png")
SERVICE_TYPES = ("service", "services", "svc")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        translated = translate(sys.argv[1:] if argv is None else argv)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not translated:
        _parser().print_help(sys.stderr)
        return 2
    return nsmigrate.main(translated)


def translate(argv: Sequence[str]) -> list[str]:
    """The ``nsmigrate`` arguments for these ``kubectl nsmigrate`` ones; [] without a command.
    Bad usage raises ValueError (or exits 2, as argparse does)."""
    args = _parser().parse_args(argv)
    if not hasattr(args, "translate"):
        return []
    translated: list[str] = args.translate(args)
    common = [f"--{name}={value}" for name in ("kubeconfig", "context") if (value := vars(args)[name])]
    return [*(["--debug"] if args.debug else []), *translated, *common]


def _status(args: argparse.Namespace) -> list[str]:
    return ["status", *_namespace(args), *_output(args), *_domain(args)]


def _plan(args: argparse.Namespace) -> list[str]:
    files = [f"--filename={name}" for name in args.filename]
    return ["plan", *files, *([f"--to={args.namespace}"] if args.namespace else []), *_output(args), *_domain(args)]


def _audit(args: argparse.Namespace) -> list[str]:
    since = [f"--since={args.since}"] if args.since else []
    return ["audit", *since, *([f"--log={args.log}"] if args.log else []), *_namespace(args), *_output(args)]


def _graph(args: argparse.Namespace) -> list[str]:
    out = [f"--out={args.out}"] if args.out else []
    output = ["--output", args.output] if args.output else []
    return ["graph", *_namespace(args), *output, *out, *_domain(args)]


def _on_service(command: str) -> Callable[[argparse.Namespace], list[str]]:
    """handover/rollback NAME -n NS: kubectl's way of naming a Service, to nsmigrate's NAMESPACE/NAME."""

    def translate(args: argparse.Namespace) -> list[str]:
        kind, _, name = args.service.rpartition("/")
        if kind not in ("", *SERVICE_TYPES) or not name:
            raise ValueError(f"expected NAME or service/NAME (with -n NAMESPACE), got {args.service!r}")
        namespace = args.namespace or Kube.default_namespace(args.kubeconfig, context=args.context)
        return [command, f"{namespace}/{name}", *_domain(args)]

    return translate


def _namespace(args: argparse.Namespace) -> list[str]:
    return [f"--namespace={args.namespace}"] if args.namespace and not args.all_namespaces else []


def _output(args: argparse.Namespace) -> list[str]:
    if args.output is None:
        return []
    return ["--output", "text" if args.output == "wide" else args.output]


def _domain(args: argparse.Namespace) -> list[str]:
    return [f"--cluster-domain={args.cluster_domain}"] if args.cluster_domain else []


def _kubectl_flags(*, output: Sequence[str] = ()) -> argparse.ArgumentParser:
    """kubectl's usual flags; accepted after the command word, as kubectl passes them to plugins."""
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument("--kubeconfig", help="path to the kubeconfig file (default: KUBECONFIG, ~/.kube/config)")
    flags.add_argument("--context", help="the kubeconfig context to use (default: its current context)")
    flags.add_argument("-n", "--namespace", help="the namespace (see each command)")
    flags.add_argument("--cluster-domain", help=f"cluster DNS domain (default: {Settings().cluster_domain})")
    flags.add_argument("--debug", action="store_true", help="show tracebacks")
    if output:
        flags.add_argument("-o", "--output", choices=output, help=f"output format: {'|'.join(output)}")
    return flags


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Move applications between namespaces with nsmigrate: what its proxies hold, what a "
        "deploy will do, who was refused, who calls whom; hand a Service over, roll it back or finalize it.",
        epilog="Exit codes: 0 done, 1 failed (no cluster, refused), 2 bad usage. "
        "`kubectl nsmigrate COMMAND --help` for a command's flags.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    listing = _kubectl_flags(output=LISTING_FORMATS)
    status = commands.add_parser(
        "status", parents=[listing], help="proxies, their targets and callers: what is safe to delete"
    )
    status.add_argument("-A", "--all-namespaces", action="store_true", help="every namespace (the default)")
    status.set_defaults(translate=_status)

    plan = commands.add_parser(
        "plan", parents=[listing], help="what nsmigrate will do with these manifests (-n: where they go)"
    )
    plan.add_argument("-f", "--filename", action="append", required=True, help="manifest file or directory")
    plan.set_defaults(translate=_plan, all_namespaces=False)

    audit = commands.add_parser("audit", parents=[listing], help="denied and forced proxy deletions")
    audit.add_argument("-A", "--all-namespaces", action="store_true", help="every namespace (the default)")
    audit.add_argument("--since", help="only the last DURATION (30s, 15m, 2h, 7d)")
    audit.add_argument("--log", help="also read the webhook's JSON log lines from this file")
    audit.set_defaults(translate=_audit)

    graph = commands.add_parser(
        "graph", parents=[_kubectl_flags(output=GRAPH_FORMATS)], help="who calls whom across namespaces"
    )
    graph.add_argument("-A", "--all-namespaces", action="store_true", help="every migrating namespace (the default)")
    graph.add_argument("--out", help="with -o png: the file to write (default graph.png)")
    graph.set_defaults(translate=_graph)

    for name, text in SERVICE_COMMANDS.items():
        command = commands.add_parser(name, parents=[_kubectl_flags()], help=text)
        command.add_argument("service", metavar="(NAME | service/NAME)", help="the old-namespace Service (-n)")
        command.set_defaults(translate=_on_service(name), all_namespaces=False)
    return parser


SERVICE_COMMANDS = {
    "handover": "hand a live old-namespace Service over to its new side (once that is Available)",
    "rollback": "restore a handed-over Service; the automatic handover then leaves it alone",
    "finalize": "turn a mirrored Service into the ExternalName proxy, when that is safe",
}


if __name__ == "__main__":
    raise SystemExit(main())
