"""Readers of the Endpoints API keep seeing a handed-over Service (controller manager running): the old
namespace's Endpoints object lists the new pods, follows a scale-up, appears under no second manager's
slices, and is Kubernetes' again after a rollback."""

from __future__ import annotations

import json
import subprocess
from functools import partial

import pytest

from tests.e2e.helpers import apply_all, available, eventually, metrics, mirrored, ready_pod_ips, slice_addresses
from webhook.cli.main import main as cli
from webhook.core import labels
from webhook.core.endpoints import ENDPOINT_CONTROLLER, ENDPOINTS_MANAGED_BY, SKIP_MIRROR
from webhook.dev import seed
from webhook.dev.controlplane import find_binaries
from webhook.dev.environment import DevEnvironment
from webhook.http.metrics import sample
from webhook.kube.client import Kube

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kube(full: DevEnvironment) -> Kube:
    return Kube.connect(str(full.kubeconfig))


def endpoint_ips(kube: Kube, namespace: str, name: str) -> set[str]:
    found = kube.get("Endpoints", namespace, name) or {}
    return {address["ip"] for subset in found.get("subsets") or [] for address in subset.get("addresses") or []}


def kubectl_endpoints(full: DevEnvironment, namespace: str, name: str) -> set[str]:
    """What `kubectl get endpoints` shows: the client every older consumer of the API resembles."""
    kubectl = find_binaries("kubectl")["kubectl"]
    done = subprocess.run(
        [str(kubectl), "--kubeconfig", str(full.kubeconfig), "-n", namespace, "get", "endpoints", name, "-o", "json"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    found = json.loads(done.stdout)
    return {address["ip"] for subset in found.get("subsets") or [] for address in subset.get("addresses") or []}


def managers(kube: Kube, namespace: str, name: str) -> set[str]:
    pieces = kube.list_labelled("EndpointSlice", namespace, f"{labels.SERVICE_NAME}={name}")
    return {piece["metadata"]["labels"].get(labels.SLICE_MANAGED_BY, "") for piece in pieces}


def test_endpoints_readers_see_the_new_pods_through_handover_scale_up_and_rollback(
    full: DevEnvironment, kube: Kube
) -> None:
    old, new = "ep-old", "ep-new"
    apply_all(kube, [*seed.old_namespace(old), seed.new_namespace(new, old=old)])
    eventually(partial(available, kube, old, "appa"), timeout=60)
    old_pods = endpoint_ips(kube, old, "servicea")
    assert old_pods, "the endpoint controller serves the old pods before the move"

    apply_all(kube, [seed.service("servicea", new, "appa"), seed.deployment("appa", new, seed.CALLS["a"])])
    eventually(partial(mirrored, kube, old, "servicea"), timeout=60)
    new_pods = slice_addresses(kube, new, "servicea")
    eventually(lambda: kubectl_endpoints(full, old, "servicea") == new_pods, timeout=10)
    ours = kube.get("Endpoints", old, "servicea") or {}
    assert ours["metadata"]["labels"][SKIP_MIRROR] == "true"
    assert ours["metadata"]["labels"][labels.PROXY] == "true"

    kube.request(
        "PATCH", f"/apis/apps/v1/namespaces/{new}/deployments/appa", body={"spec": {"replicas": 3}},
        content_type="application/merge-patch+json",
    )  # fmt: skip
    eventually(lambda: len(ready_pod_ips(kube, [new])) == 3, timeout=60)
    eventually(lambda: endpoint_ips(kube, old, "servicea") == ready_pod_ips(kube, [new]), timeout=10)

    # No duplicate slices from Kubernetes' endpointslice-mirroring controller, after passes that could
    # have made them: the mirror's slices are the only ones.
    passes = sample(metrics(full), "nsmigrate_reconcile_passes_total")
    eventually(lambda: sample(metrics(full), "nsmigrate_reconcile_passes_total") >= passes + 2, timeout=30)
    assert managers(kube, old, "servicea") == {labels.SLICE_MANAGER}

    assert cli(["rollback", f"{old}/servicea", "--kubeconfig", str(full.kubeconfig)]) == 0
    restored = kube.get("Endpoints", old, "servicea") or {"metadata": {}}
    restored_labels = restored["metadata"].get("labels") or {}
    assert restored_labels.get(labels.PROXY) is None  # ours is gone: the endpoint controller's (if any) remains
    eventually(lambda: endpoint_ips(kube, old, "servicea") == old_pods, timeout=30)
    final = (kube.get("Endpoints", old, "servicea") or {"metadata": {}})["metadata"].get("labels") or {}
    assert final.get(ENDPOINTS_MANAGED_BY) == ENDPOINT_CONTROLLER
    assert managers(kube, old, "servicea") == {labels.SLICE_CONTROLLER}
