"""``nsmigrate handover`` / ``rollback``: hand a live old Service over (mirrored), or restore it."""

from __future__ import annotations

import argparse
import datetime
import sys

from webhook.cli.snapshot import service_argument
from webhook.core import settings
from webhook.core.handover import plan_handover
from webhook.kube import workflows
from webhook.kube.client import Kube
from webhook.kube.live import KubeCluster


def handover(args: argparse.Namespace) -> int:
    namespace, name = service_argument(args.service)
    cluster = KubeCluster(Kube.connect(args.kubeconfig, context=args.context))
    config = settings.from_env(cluster_domain=args.cluster_domain)
    try:
        plan = plan_handover(cluster, config, namespace=namespace, name=name)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not plan.ready:
        print(f"error: not handing over {plan.where} yet: {plan.reason}", file=sys.stderr)
        return 1
    if plan.owner:
        print(f"warning: {plan.owner_advice}", file=sys.stderr)
    workflows.hand_over(cluster, namespace, name, target=plan.target)
    print(
        f"service/{name} -n {namespace} handed over: it keeps its address and ports, and serves the ready pods "
        f"of {plan.target.namespace}/{plan.target.name} (EndpointSlices mirrored by nsmigrate)"
    )
    return 0


def rollback(args: argparse.Namespace) -> int:
    namespace, name = service_argument(args.service)
    cluster = KubeCluster(Kube.connect(args.kubeconfig, context=args.context))
    try:
        workflows.roll_back(cluster, namespace, name, now=datetime.datetime.now(datetime.UTC))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"service/{name} -n {namespace} rolled back: its original spec is restored, the mirrored slices "
        f"removed; no automatic handover"
    )
    return 0
