"""What the read-only commands share: the cluster as one list of each kind, and argument parsing."""

from __future__ import annotations

import argparse
import json
from typing import Any

import yaml

from webhook.core import labels, settings
from webhook.core.settings import Settings
from webhook.kube import watch
from webhook.kube.cache import Cache
from webhook.kube.client import Kube
from webhook.kube.live import KubeCluster


def connect(args: argparse.Namespace) -> Kube:
    return Kube.connect(args.kubeconfig, context=args.context)


def snapshot(args: argparse.Namespace, kube: Kube | None = None) -> tuple[Cache, Settings]:
    """The cluster as one list of each kind, in the webhook's own cache structure."""
    kube = kube or connect(args)
    cache = watch.snapshot(Cache(KubeCluster(kube)), kube)
    config = settings.from_env(cluster_domain=args.cluster_domain)
    if getattr(args, "namespace", None):
        for namespace in [args.namespace] if isinstance(args.namespace, str) else args.namespace:
            if cache.namespace(namespace) is None:
                raise ValueError(f'namespaces "{namespace}" not found')
    return cache, config


def migrating(cache: Cache) -> list[str]:
    """The namespaces a migration involves: those labelled migrate-from, and their old namespaces."""
    found = set()
    for namespace in cache.namespaces():
        if old := namespace.labels.get(labels.MIGRATE_FROM):
            found |= {namespace.name, old}
    return sorted(found)


def print_data(data: Any, output: str) -> None:
    """Print ``data`` as ``-o json`` or ``-o yaml`` asked (the same fields either way)."""
    if output == "yaml":
        print(yaml.safe_dump(data, sort_keys=False), end="")
    else:
        print(json.dumps(data, indent=2))


def service_argument(text: str) -> tuple[str, str]:
    namespace, _, name = text.partition("/")
    if not namespace or not name:
        raise ValueError(f"expected NAMESPACE/NAME, got {text!r}")
    return namespace, name
