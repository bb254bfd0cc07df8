"""``helm test``'s check on the real API server: the chart's test namespaces, Service and RBAC applied,
then the test pod's own command (``nsmigrate check``) run against the webhook the API server calls."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from webhook.cli.main import main as cli
from webhook.dev import chart, seed
from webhook.dev.environment import DevEnvironment
from webhook.kube.client import Kube

pytestmark = pytest.mark.e2e


def helm_test(release: str) -> list[dict[str, Any]]:
    rendered = chart.render(show_only=["templates/tests/test-admission.yaml"], namespace="nsmigrate")
    documents = [doc for doc in yaml.safe_load_all(rendered.replace("nsmigrate-test", release)) if doc]
    return sorted(documents, key=lambda doc: int(doc["metadata"]["annotations"]["helm.sh/hook-weight"]))


def allowed(kube: Kube, account: str, namespace: str) -> bool:
    """Whether the ServiceAccount may create Deployments in ``namespace`` (SubjectAccessReview)."""
    attributes = {"verb": "create", "group": "apps", "resource": "deployments", "namespace": namespace}
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {"user": account, "groups": ["system:serviceaccounts"], "resourceAttributes": attributes},
    }
    answer = kube.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body=review).body
    return bool(answer["status"].get("allowed"))


def test_helm_tests_check_passes_when_the_api_server_calls_nsmigrate(
    dev: DevEnvironment, kube: Kube, capsys: pytest.CaptureFixture[str]
) -> None:
    documents = helm_test("helmtest")
    for document in documents[:-1]:  # no pod runs here (no image); its command runs below instead
        if document["kind"] != "Namespace" or kube.get("Namespace", None, document["metadata"]["name"]) is None:
            kube.apply(document)
    pod = documents[-1]
    assert pod["kind"] == "Pod"
    account = f"system:serviceaccount:nsmigrate:{pod['spec']['serviceAccountName']}"
    command = pod["spec"]["containers"][0]["command"]
    new = command[command.index("--namespace") + 1]
    assert allowed(kube, account, new)
    assert not allowed(kube, account, "default")

    assert command[0] == "nsmigrate"
    assert cli([*command[1:], "--kubeconfig", str(dev.kubeconfig)]) == 0
    assert (
        "admission goes through nsmigrate: http://target/ -> http://target.helmtest-old.svc" in capsys.readouterr().out
    )
    assert kube.get("Deployment", new, "nsmigrate-check") is None  # a dry run: nothing written


def test_the_check_fails_when_the_webhook_is_not_called(
    dev: DevEnvironment, kube: Kube, names: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = names
    kube.apply(seed.namespace(old))
    kube.apply(seed.namespace(new))  # not labelled migrate-from: the API server does not call nsmigrate
    kube.apply(seed.service("servicea", old, "appa"))
    assert (
        cli(["check", "-n", new, "--service", "servicea", "--timeout", "1", "--kubeconfig", str(dev.kubeconfig)]) == 1
    )
    assert "came back unchanged" in capsys.readouterr().err
