"""``nsmigrate serve``: the webhook server; every setting but these flags comes from NSMIGRATE_* variables."""

from __future__ import annotations

import argparse
from typing import Any

from webhook.core import settings
from webhook.runtime.process import serve


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


def run(args: argparse.Namespace) -> int:
    serve(settings.from_env(**serve_overrides(args)))
    return 0
