"""``nsmigrate check``: admission really goes through nsmigrate, asked of the API server (what
``helm test`` runs, like cert-manager's API check): a server-side dry-run create of a Deployment that
calls a Service of the old namespace by its short name must come back rewritten. Nothing is written."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from webhook.core import labels
from webhook.kube.client import ApiError, Kube, path_of


def probe(namespace: str, service: str) -> dict[str, Any]:
    """A Deployment in ``namespace`` that calls ``service`` by its short name."""
    match = {"app.kubernetes.io/name": "nsmigrate-check"}
    container = {
        "name": "probe",
        "image": "nsmigrate-check",
        "env": [{"name": "TARGET_URL", "value": f"http://{service}/"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nsmigrate-check", "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": match},
            "template": {"metadata": {"labels": match}, "spec": {"containers": [container]}},
        },
    }


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-n", "--namespace", required=True, help="a new namespace (labelled migrate-from)")
    parser.add_argument("--service", required=True, help="a Service of its old namespace, none of its own")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to keep trying (default 60)")
    parser.add_argument("--kubeconfig", help="kubeconfig (default: KUBECONFIG, in-cluster, ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context (default: its current context)")
    return parser


def run(args: argparse.Namespace) -> int:
    kube = Kube.connect(args.kubeconfig, context=args.context)
    path = path_of("Deployment", args.namespace)
    deadline = time.monotonic() + args.timeout
    while True:  # retried: a fresh install's webhook may still be syncing its caches
        try:
            reply = kube.request("POST", path, query=[("dryRun", "All")], body=probe(args.namespace, args.service))
        except ApiError as error:
            problem = f"the API server refused the dry run: {error}"
        else:
            rewritten = reply.body["metadata"].get("annotations", {}).get(labels.REWRITTEN_ENV)
            if rewritten:
                (change,) = json.loads(rewritten)
                print(f"admission goes through nsmigrate: {change['from']} -> {change['to']}")
                return 0
            problem = "the Deployment came back unchanged: the API server did not call nsmigrate's webhook"
        if time.monotonic() >= deadline:
            print(f"error: {problem}", file=sys.stderr)
            return 1
        time.sleep(1)
