"""``nsmigrate serve``: the webhook server; every setting but these flags comes from NSMIGRATE_* variables."""

from __future__ import annotations

import argparse
from typing import Any

from webhook.core import settings
from webhook.core.settings import Settings
from webhook.runtime.process import serve


def serve_arguments() -> argparse.ArgumentParser:
    """The flags of ``nsmigrate serve``; every other setting comes from NSMIGRATE_* variables."""
    default = Settings()  # the one source of every default: help texts quote it
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--host", help=f"address to bind (default {default.host})")
    parser.add_argument("--port", type=int, help=f"HTTPS port (default {default.port})")
    parser.add_argument("--cert-file", help=f"serving certificate, PEM (default {default.cert_file})")
    parser.add_argument("--key-file", help=f"its private key, PEM (default {default.key_file})")
    parser.add_argument("--kubeconfig", help="kubeconfig (default: in-cluster, then ~/.kube/config)")
    parser.add_argument("--cluster-domain", help=f"cluster DNS domain (default {default.cluster_domain})")
    parser.add_argument(
        "--failure-policy",
        choices=["Fail", "Ignore"],
        help=f"answer to nsmigrate's own errors (default {default.failure_policy})",
    )
    return parser


def serve_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the serve flags override (unset flags leave the environment's values)."""
    names = ("host", "port", "cert_file", "key_file", "kubeconfig", "cluster_domain", "failure_policy")
    return {name: getattr(args, name) for name in names}


def run(args: argparse.Namespace) -> int:
    serve(settings.from_env(**serve_overrides(args)))
    return 0
