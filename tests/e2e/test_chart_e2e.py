"""The rendered manifests on a real API server, and the chart's RBAC checked by SubjectAccessReview."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from webhook.dev import chart
from webhook.dev.controlplane import ControlPlane
from webhook.kube.client import Kube

pytestmark = pytest.mark.e2e
ACCOUNT = "system:serviceaccount:nsmigrate:nsmigrate"
ADMISSION = "admissionregistration.k8s.io"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    """A control plane of its own (the chart registers webhooks that have no pods behind them here),
    with deploy/nsmigrate.yaml applied server-side."""
    plane = ControlPlane(Path(tmp_path_factory.mktemp("chart")))
    plane.start()
    try:
        kube = Kube.connect(str(plane.kubeconfig))
        for document in yaml.safe_load_all(chart.DEPLOY.read_text()):
            if document:
                kube.apply(document)
        yield kube
    finally:
        plane.stop()


def allowed(kube: Kube, verb: str, resource: str, *, group: str = "", namespace: str = "", name: str = "") -> bool:
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": ACCOUNT,
            "groups": ["system:serviceaccounts", "system:serviceaccounts:nsmigrate", "system:authenticated"],
            "resourceAttributes": {
                "verb": verb, "group": group, "resource": resource, "namespace": namespace, "name": name,
            },
        },
    }  # fmt: skip
    answer = kube.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body=review).body
    return bool(answer["status"].get("allowed"))


def test_every_rendered_manifest_is_accepted(installed: Kube) -> None:
    for document in yaml.safe_load_all(chart.DEPLOY.read_text()):
        if document:
            metadata = document["metadata"]
            assert installed.get(document["kind"], metadata.get("namespace"), metadata["name"]) is not None


NETWORKING = "networking.k8s.io"

NEEDED = [
    pytest.param(("list", "namespaces", "", "", ""), id="list-namespaces"),
    pytest.param(("watch", "namespaces", "", "", ""), id="watch-namespaces"),
    pytest.param(("get", "namespaces", "", "", "foobar"), id="get-namespace"),
    pytest.param(("watch", "services", "", "foobar", ""), id="watch-services"),
    pytest.param(("create", "services", "", "foobar", ""), id="create-proxy"),
    pytest.param(("patch", "services", "", "foobar", "servicea"), id="patch-proxy-ports"),
    pytest.param(("update", "services", "", "foobar", "servicea"), id="handover-update"),
    pytest.param(("delete", "services", "", "foobar", "servicea"), id="delete-orphan-proxy"),
    pytest.param(("watch", "endpointslices", "discovery.k8s.io", "", ""), id="watch-endpointslices"),
    pytest.param(("create", "endpointslices", "discovery.k8s.io", "foobar", ""), id="create-mirrored-slice"),
    pytest.param(("patch", "endpointslices", "discovery.k8s.io", "foobar", "servicea-x"), id="update-mirrored-slice"),
    pytest.param(("delete", "endpointslices", "discovery.k8s.io", "foobar", "servicea-x"), id="delete-stale-slice"),
    pytest.param(("delete", "endpoints", "", "foobar", "servicea"), id="delete-mirrored-endpoints"),
    pytest.param(("watch", "endpoints", "", "", ""), id="watch-mirrored-endpoints"),
    pytest.param(("create", "endpoints", "", "foobar", ""), id="create-mirrored-endpoints"),
    pytest.param(("patch", "endpoints", "", "foobar", "servicea"), id="apply-mirrored-endpoints"),
    pytest.param(("watch", "networkpolicies", "networking.k8s.io", "", ""), id="watch-networkpolicies"),
    pytest.param(("create", "networkpolicies", "networking.k8s.io", "foo", ""), id="create-callers-policy"),
    pytest.param(("patch", "networkpolicies", NETWORKING, "foo", "nsmigrate-callers"), id="apply-callers-policy"),
    pytest.param(("delete", "networkpolicies", NETWORKING, "foo", "nsmigrate-callers"), id="delete-callers-policy"),
    pytest.param(("watch", "serviceaccounts", "", "", ""), id="watch-serviceaccounts"),
    pytest.param(("watch", "persistentvolumeclaims", "", "", ""), id="watch-claims"),
    pytest.param(("watch", "configmaps", "", "", ""), id="watch-configmaps"),
    pytest.param(("watch", "pods", "", "", ""), id="watch-pods"),
    pytest.param(("watch", "deployments", "apps", "", ""), id="watch-deployments"),
    pytest.param(("list", "statefulsets", "apps", "", ""), id="list-statefulsets"),
    pytest.param(("watch", "daemonsets", "apps", "", ""), id="watch-daemonsets"),
    pytest.param(("watch", "jobs", "batch", "", ""), id="watch-jobs"),
    pytest.param(("watch", "cronjobs", "batch", "", ""), id="watch-cronjobs"),
    pytest.param(("create", "events", "", "foobar", ""), id="create-event"),
    pytest.param(("patch", "events", "", "foobar", "servicea.proxydeletiondenied"), id="bump-event"),
    pytest.param(("create", "leases", "coordination.k8s.io", "nsmigrate", ""), id="create-lease"),
    pytest.param(("update", "leases", "coordination.k8s.io", "nsmigrate", "nsmigrate-reconciler"), id="renew-lease"),
    pytest.param(("create", "secrets", "", "nsmigrate", ""), id="create-tls-secret"),
    pytest.param(("update", "secrets", "", "nsmigrate", "nsmigrate-tls"), id="renew-tls-secret"),
    pytest.param(("update", "mutatingwebhookconfigurations", ADMISSION, "", "nsmigrate"), id="inject-ca-mutating"),
    pytest.param(("update", "validatingwebhookconfigurations", ADMISSION, "", "nsmigrate"), id="inject-ca-validating"),
]  # fmt: skip

FORBIDDEN = [
    pytest.param(("get", "secrets", "", "foobar", "db-password"), id="secrets-elsewhere"),
    pytest.param(("list", "secrets", "", "nsmigrate", ""), id="list-own-secrets"),
    pytest.param(("get", "secrets", "", "nsmigrate", "other"), id="other-own-secret"),
    pytest.param(("delete", "deployments", "apps", "foobar", "appa"), id="delete-deployment"),
    pytest.param(("update", "deployments", "apps", "foobar", "appa"), id="update-deployment"),
    pytest.param(("create", "pods", "", "foobar", ""), id="create-pod"),
    pytest.param(("update", "endpoints", "", "foobar", "servicea"), id="update-endpoints"),
    pytest.param(("update", "networkpolicies", "networking.k8s.io", "foo", "default-deny"), id="update-policy"),
    pytest.param(("list", "rolebindings", "rbac.authorization.k8s.io", "", ""), id="read-rbac"),
    pytest.param(("get", "serviceaccounts", "", "foobar", "default"), id="get-serviceaccount-token-holder"),
    pytest.param(("update", "configmaps", "", "foobar", "settings"), id="update-configmap"),
    pytest.param(("get", "configmaps", "", "foobar", "settings"), id="get-configmap"),
    pytest.param(("delete", "namespaces", "", "", "foobar"), id="delete-namespace"),
    pytest.param(("update", "mutatingwebhookconfigurations", ADMISSION, "", "other"), id="other-webhook"),
    pytest.param(("delete", "mutatingwebhookconfigurations", ADMISSION, "", "nsmigrate"), id="delete-own-webhook"),
    pytest.param(("update", "leases", "coordination.k8s.io", "nsmigrate", "other"), id="other-lease"),
    pytest.param(("update", "leases", "coordination.k8s.io", "kube-system", "kube-scheduler"), id="system-lease"),
    pytest.param(("create", "clusterroles", "rbac.authorization.k8s.io", "", ""), id="escalate"),
]  # fmt: skip


Access = tuple[str, str, str, str, str]
"""(verb, resource, API group, namespace, name)"""


@pytest.mark.parametrize("access", NEEDED)
def test_the_service_account_can_do_what_nsmigrate_needs(installed: Kube, access: Access) -> None:
    verb, resource, group, namespace, name = access
    assert allowed(installed, verb, resource, group=group, namespace=namespace, name=name)


@pytest.mark.parametrize("access", FORBIDDEN)
def test_the_service_account_can_do_nothing_more(installed: Kube, access: Access) -> None:
    verb, resource, group, namespace, name = access
    assert not allowed(installed, verb, resource, group=group, namespace=namespace, name=name)
