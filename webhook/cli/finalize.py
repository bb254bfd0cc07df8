"""``nsmigrate finalize``: turn a mirrored Service into the ExternalName proxy, only when that is safe."""

from __future__ import annotations

import argparse
import sys

from webhook.cli.snapshot import service_argument
from webhook.core import settings
from webhook.core.consumers import users_of
from webhook.core.handover import finalize_problems
from webhook.kube import workflows
from webhook.kube.client import Kube
from webhook.kube.consumers import list_consumers
from webhook.kube.live import KubeCluster


def run(args: argparse.Namespace) -> int:
    namespace, name = service_argument(args.service)
    cluster = KubeCluster(Kube.connect(args.kubeconfig, context=args.context))
    config = settings.from_env(cluster_domain=args.cluster_domain)
    service = cluster.service(namespace, name)
    if service is None:
        print(f"error: service {namespace}/{name} not found", file=sys.stderr)
        return 1
    target = cluster.service(*service.proxy_target) if service.proxy_target else None
    slices = cluster.endpoint_slices(namespace, name)
    pod_names = any(endpoint.hostname for found in slices for endpoint in found.endpoints)
    routed_by = users_of(list_consumers(cluster.kube).routes, namespace, name)
    problems = finalize_problems(service, target, pod_names=pod_names, routed_by=routed_by)
    if problems or target is None:
        print(f"error: not finalizing {namespace}/{name}: " + "; ".join(problems), file=sys.stderr)
        return 1
    workflows.finalize(cluster, namespace, name, target=target, cluster_domain=config.cluster_domain)
    print(
        f"service/{name} -n {namespace} finalized: ExternalName -> {target.name}.{target.namespace}.svc."
        f"{config.cluster_domain}; its cluster IP {service.cluster_ip} is released "
        f"(nsmigrate rollback {namespace}/{name} restores the original spec)"
    )
    return 0
