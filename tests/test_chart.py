"""The Helm chart: lint, rendering in each certificate mode, guards, and deploy/ kept in step."""

import dataclasses
import json
import subprocess
from typing import Any

import pytest
import yaml

from webhook.core.podspec import POD_TEMPLATE_PATHS
from webhook.core.settings import Settings
from webhook.dev import chart
from webhook.kube.client import RESOURCES


def kinds(rendered: str) -> list[str]:
    return [doc["kind"] for doc in yaml.safe_load_all(rendered) if doc]


def test_chart_lints() -> None:
    output = chart.helm("lint", str(chart.CHART), "--strict", "--kube-version", chart.KUBE_VERSION)
    assert "0 chart(s) failed" in output


def test_deploy_manifests_are_the_rendered_chart() -> None:
    assert chart.DEPLOY.read_text() == chart.deploy_manifests(), "deploy/ drifted: run `make deploy`"


def test_default_rendering_has_every_piece() -> None:
    assert sorted(kinds(chart.render(skip_tests=True))) == sorted(
        [
            "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment",
            "PodDisruptionBudget", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
        ]
    )  # fmt: skip


def test_self_managed_mode_leaves_the_ca_bundle_to_nsmigrate() -> None:
    documents = {doc["kind"]: doc for doc in yaml.safe_load_all(chart.render()) if doc}
    env = {
        e["name"]: e.get("value") for e in documents["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["NSMIGRATE_CERT_SECRET"] == "nsmigrate-tls"
    assert "caBundle" not in documents["MutatingWebhookConfiguration"]["webhooks"][0]["clientConfig"]


def test_cert_manager_mode_makes_a_certificate_and_asks_for_ca_injection() -> None:
    rendered = chart.render("certificates.mode=cert-manager")
    documents = [doc for doc in yaml.safe_load_all(rendered) if doc]
    assert kinds(rendered).count("Certificate") == 2
    webhooks = [doc for doc in documents if doc["kind"].endswith("WebhookConfiguration")]
    assert all(
        doc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == "nsmigrate/nsmigrate" for doc in webhooks
    )


def test_secret_mode_requires_a_ca_bundle() -> None:
    with pytest.raises(subprocess.CalledProcessError) as failed:
        chart.render("certificates.mode=secret")
    assert "certificates.caBundle is required" in failed.value.stderr
    rendered = chart.render("certificates.mode=secret", "certificates.caBundle=PEM")
    webhook = next(doc for doc in yaml.safe_load_all(rendered) if doc and doc["kind"] == "MutatingWebhookConfiguration")
    assert webhook["webhooks"][0]["clientConfig"]["caBundle"] == "UEVN"


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("webhook.failurePolicy=Maybe", "value must be one of 'Fail', 'Ignore'"),
        ("replicaCount=0", "minimum"),
        ("certificates.mode=vault", "value must be one of"),
        ("unknownKey=1", "additional properties"),
    ],
)
def test_schema_refuses_bad_values(value: str, complaint: str) -> None:
    with pytest.raises(subprocess.CalledProcessError) as failed:
        chart.render(value)
    assert complaint in failed.value.stderr


def test_optional_pieces_render_when_enabled() -> None:
    rendered = chart.render(
        "networkPolicy.enabled=true", "serviceMonitor.enabled=true", "podDisruptionBudget.enabled=false"
    )
    assert "NetworkPolicy" in kinds(rendered)
    assert "ServiceMonitor" in kinds(rendered)
    assert "PodDisruptionBudget" not in kinds(rendered)


FIXED_BY_THE_POD = {"host", "port", "kubeconfig"}
"""Settings a pod never changes: it serves on its pod IP and port 8443, with its in-cluster identity."""


def test_every_server_setting_is_settable_from_the_chart() -> None:
    template = (chart.CHART / "templates" / "deployment.yaml").read_text()
    missing = [
        spec.name
        for spec in dataclasses.fields(Settings)
        if spec.name not in FIXED_BY_THE_POD and f"NSMIGRATE_{spec.name.upper()}" not in template
    ]
    assert not missing, f"settings without a chart value (add one to values.yaml and deployment.yaml): {missing}"


def test_extra_env_comes_last_so_it_wins() -> None:
    rendered = chart.render("extraEnv[0].name=NSMIGRATE_LOG_LEVEL", "extraEnv[0].value=DEBUG")
    deployment = next(doc for doc in yaml.safe_load_all(rendered) if doc and doc["kind"] == "Deployment")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[-1] == {"name": "NSMIGRATE_LOG_LEVEL", "value": "DEBUG"}


def test_the_charts_workload_rules_are_the_kinds_the_core_mutates() -> None:
    """One list of workload kinds (``objects.POD_TEMPLATE_PATHS``): the registration must not drift from it."""
    rendered = chart.render(show_only=["templates/mutatingwebhookconfiguration.yaml"])
    hook = next(h for h in yaml.safe_load(rendered)["webhooks"] if h["name"] == "workloads.nsmigrate.io")
    registered = {
        (group, resource) for rule in hook["rules"] for group in rule["apiGroups"] for resource in rule["resources"]
    }
    expected = {(RESOURCES[kind].api_version.rpartition("/")[0], RESOURCES[kind].plural) for kind in POD_TEMPLATE_PATHS}
    assert registered == expected


def deployment_of(rendered: str) -> dict[str, Any]:
    return next(doc for doc in yaml.safe_load_all(rendered) if doc and doc["kind"] == "Deployment")


def test_client_verification_is_on_by_default_with_the_servers_default_subject() -> None:
    pod = deployment_of(chart.render())["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["NSMIGRATE_CLIENT_VERIFICATION"] == "true"
    assert env["NSMIGRATE_CLIENT_SUBJECT_NAMES"] == ",".join(Settings().client_subject_names)
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "client-ca")
    assert env["NSMIGRATE_CLIENT_CA_FILE"] == f"{mount['mountPath']}/ca.crt"
    volume = next(v for v in pod["volumes"] if v["name"] == "client-ca")
    assert volume["secret"] == {"secretName": "nsmigrate-client-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}


def test_client_verification_off_mounts_no_ca() -> None:
    pod = deployment_of(chart.render("clientAuth.enabled=false"))["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["NSMIGRATE_CLIENT_VERIFICATION"] == "false"
    assert "NSMIGRATE_CLIENT_CA_FILE" not in env
    assert all(v["name"] != "client-ca" for v in pod["volumes"])


def test_cert_manager_makes_the_client_ca_and_the_api_servers_certificate() -> None:
    documents = [doc for doc in yaml.safe_load_all(chart.render("clientAuth.certManager.enabled=true")) if doc]
    certificates = {doc["metadata"]["name"]: doc["spec"] for doc in documents if doc["kind"] == "Certificate"}
    assert certificates["nsmigrate-client-ca"]["isCA"] is True
    assert certificates["nsmigrate-client-ca"]["secretName"] == "nsmigrate-client-ca"
    client = certificates["nsmigrate-apiserver-client"]
    assert client["commonName"] == Settings().client_subject_names[0]
    assert client["usages"] == ["client auth", "digital signature"]


def test_deploy_manifests_hold_no_helm_test_hooks() -> None:
    assert "helm.sh/hook" not in chart.DEPLOY.read_text()


def test_helm_test_asks_the_api_server_for_a_dry_run_that_comes_back_mutated() -> None:
    documents = [
        doc for doc in yaml.safe_load_all(chart.render(show_only=["templates/tests/test-admission.yaml"])) if doc
    ]
    assert all(doc["metadata"]["annotations"]["helm.sh/hook"] == "test" for doc in documents)
    by_kind = {doc["kind"]: doc for doc in documents}
    old, new = (doc["metadata"] for doc in documents if doc["kind"] == "Namespace")
    assert new["labels"]["nsmigrate.io/migrate-from"] == old["name"]
    assert by_kind["Service"]["metadata"]["namespace"] == old["name"]
    pod = by_kind["Pod"]["spec"]
    assert pod["containers"][0]["command"] == [
        "nsmigrate", "check", "--namespace", new["name"], "--service", by_kind["Service"]["metadata"]["name"],
        "--timeout", "60",
    ]  # fmt: skip
    assert pod["serviceAccountName"] == by_kind["ServiceAccount"]["metadata"]["name"]
    assert by_kind["Role"]["metadata"]["namespace"] == new["name"]
    assert by_kind["Role"]["rules"] == [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]}]
    assert by_kind["RoleBinding"]["subjects"][0]["name"] == pod["serviceAccountName"]
    created_first = {doc["kind"]: int(doc["metadata"]["annotations"]["helm.sh/hook-weight"]) for doc in documents}
    assert created_first["Namespace"] < created_first["Role"] < created_first["Pod"]


def test_monitoring_is_off_by_default_and_renders_when_asked_for() -> None:
    assert not {"PrometheusRule", "ConfigMap"} & set(kinds(chart.render()))
    rendered = chart.render("prometheusRule.enabled=true", "grafanaDashboard.enabled=true")
    documents = {doc["kind"]: doc for doc in yaml.safe_load_all(rendered) if doc}
    assert documents["ConfigMap"]["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(documents["ConfigMap"]["data"]["nsmigrate.json"])["uid"] == "nsmigrate"
    assert documents["PrometheusRule"]["spec"]["groups"][0]["rules"]
