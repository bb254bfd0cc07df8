"""Readiness on a real cluster (controller manager, scheduler, kwok): the NetworkPolicy gate holds a
handover while a known caller would be refused and lets it go once a policy admits the caller; every
other finding kind is produced by a real object and cleared by fixing it; consumers of a handed-over
Service (Ingress, HTTPRoute) are named, and finalize refuses while one uses it."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.helpers import apply_all, available, eventually, metrics, mirrored
from webhook.cli.main import main as cli
from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.dev import seed
from webhook.dev.environment import DevEnvironment
from webhook.http.metrics import sample
from webhook.kube.client import ApiError, Kube

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kube(full: DevEnvironment) -> Kube:
    return Kube.connect(str(full.kubeconfig))


def policy(namespace: str, name: str, **spec: Any) -> JsonObject:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"podSelector": {}, **spec},
    }


def status(full: DevEnvironment, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    assert cli(["status", "-o", "json", "--kubeconfig", str(full.kubeconfig), *args]) == 0
    return json.loads(capsys.readouterr().out)


def findings(full: DevEnvironment, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [entry for entry in status(full, capsys) if "holdsHandover" in entry]


def plan(
    full: DevEnvironment, capsys: pytest.CaptureFixture[str], manifest: JsonObject, tmp: Path
) -> list[dict[str, Any]]:
    path = tmp / f"{manifest['metadata']['name']}.yaml"
    path.write_text(yaml.safe_dump(manifest))
    capsys.readouterr()
    assert cli(["plan", "-f", str(path), "-o", "json", "--kubeconfig", str(full.kubeconfig)]) == 0
    (workload,) = json.loads(capsys.readouterr().out)
    found: list[dict[str, Any]] = workload["findings"]
    return found


def passes(full: DevEnvironment) -> float:
    return sample(metrics(full), "nsmigrate_reconcile_passes_total")


def test_a_default_deny_holds_the_handover_until_a_policy_admits_the_caller(
    full: DevEnvironment, kube: Kube, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = "gate-old", "gate-new"
    apply_all(kube, [*seed.old_namespace(old), seed.new_namespace(new, old=old)])
    apply_all(kube, [policy(new, "default-deny", policyTypes=["Ingress"])])
    apply_all(kube, seed.app("a", new))
    eventually(partial(available, kube, new, "appa"), timeout=60)
    before = passes(full)
    eventually(lambda: passes(full) >= before + 2, timeout=30)  # passes that could have handed it over
    service = kube.get("Service", old, "servicea") or {}
    assert service["spec"].get("selector") == {"app": "appa"}, "held: the old pods keep serving"
    (held,) = [f for f in findings(full, capsys) if f["object"] == f"service {old}/servicea"]
    assert (held["reason"], held["holdsHandover"], held["caller"]) == (
        "NetworkPolicyBlocksCallers",
        True,
        f"deployment {old}/appc",
    )
    assert held["cause"] == f"networkpolicy {new}/default-deny"
    events = eventually(
        lambda: [e for e in kube.list_all("Event", old) if e.get("reason") == "NetworkPolicyBlocksCallers"], timeout=15
    )
    assert events[0]["type"] == "Warning"
    assert "1" in sample_line(metrics(full), "nsmigrate_readiness_findings", f"service {old}/servicea")

    name_label = {labels.NAMESPACE_NAME: old}
    apply_all(kube, [policy(new, "from-old", ingress=[{"from": [{"namespaceSelector": {"matchLabels": name_label}}]}])])
    eventually(partial(mirrored, kube, old, "servicea"), timeout=30)
    assert not [f for f in findings(full, capsys) if f["object"] == f"service {old}/servicea"]


def sample_line(text: str, name: str, fragment: str) -> str:
    return next((line for line in text.splitlines() if line.startswith(name) and fragment in line), "")


def needy(namespace: str) -> JsonObject:
    """appa as it moves: its ServiceAccount, a Secret and a claim named, all left behind in the old namespace."""
    deployment = seed.deployment("appa", namespace, {})
    spec = deployment["spec"]["template"]["spec"]
    spec["serviceAccountName"] = "appa"
    spec["containers"][0]["env"] = [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "p"}}}]
    spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    return deployment


def binding(namespace: str, subject_namespace: str, name: str) -> JsonObject:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "appa", "namespace": subject_namespace}],
    }


def test_each_finding_kind_comes_from_a_real_object_and_goes_when_it_is_fixed(
    full: DevEnvironment, kube: Kube, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old, new = "ready-old", "ready-new"
    restricted = {labels.MIGRATE_FROM: old, "pod-security.kubernetes.io/enforce": "restricted"}
    apply_all(kube, [*seed.old_namespace(old), seed.namespace(new, restricted)])
    apply_all(kube, [binding("kube-public", old, "appa-view")])
    found = {(f["reason"], f.get("cause", "")) for f in plan(full, capsys, needy(new), tmp_path)}
    assert {reason for reason, _ in found} == {"MissingDependency", "PodsRejected", "IdentityBoundToOldNamespace"}
    messages = " ".join(f["message"] for f in plan(full, capsys, needy(new), tmp_path))
    for missing in ("Secret db", "ServiceAccount appa", "PersistentVolumeClaim data"):
        assert missing in messages
    assert "violates PodSecurity" in messages

    # The reconciler sees the refusal too: the Deployment's ReplicaFailure, in status.
    apply_all(kube, [needy(new)])
    eventually(lambda: any(f["reason"] == "PodsRejected" for f in findings(full, capsys)), timeout=60)

    apply_all(
        kube,
        [
            seed.namespace(new, {labels.MIGRATE_FROM: old}),
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "appa", "namespace": new}},
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": new}, "data": {}},
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": new},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
            binding("kube-public", new, "appa-view-new"),
        ],
    )  # fmt: skip
    assert plan(full, capsys, needy(new), tmp_path) == []
    eventually(lambda: not [f for f in findings(full, capsys) if f["object"] == f"deployment {new}/appa"], timeout=90)


def crd(kind: str, plural: str, version: str) -> JsonObject:
    """A Gateway API kind as a CRD with an open schema: the fields nsmigrate reads are the Gateway API's own."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.gateway.networking.k8s.io",
            # *.k8s.io groups need it; the Gateway API's own CRDs carry the link to their approval.
            "annotations": {"api-approved.kubernetes.io": "https://github.com/kubernetes-sigs/gateway-api/pull/2466"},
        },
        "spec": {
            "group": "gateway.networking.k8s.io",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                }
            ],
        },
    }


HTTPROUTE_CRD = crd("HTTPRoute", "httproutes", "v1")
GRANT_CRD = crd("ReferenceGrant", "referencegrants", "v1beta1")


def test_ingress_and_routes_of_a_handed_over_service_are_named_and_keep_finalize_away(
    full: DevEnvironment, kube: Kube, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new, third = "cons-old", "cons-new", "cons-gw"
    apply_all(
        kube,
        [HTTPROUTE_CRD, GRANT_CRD, *seed.old_namespace(old), seed.new_namespace(new, old=old), seed.namespace(third)],
    )
    apply_all(kube, seed.app("a", new))
    eventually(partial(mirrored, kube, old, "servicea"), timeout=60)
    backend = {"service": {"name": "servicea", "port": {"number": 80}}}
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": old},
        "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}]},
    }
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web", "namespace": third},
        "spec": {"rules": [{"backendRefs": [{"name": "servicea", "namespace": new, "port": 8080}]}]},
    }
    eventually(lambda: _applied(kube, route), timeout=30)  # the CRD is served a moment after it is created
    apply_all(kube, [ingress])

    named = {entry["object"] for entry in status(full, capsys) if "note" in entry}
    assert {f"ingress {old}/web", f"httproute {third}/web"} <= named
    (no_grant,) = [f for f in findings(full, capsys) if f["object"] == f"httproute {third}/web"]
    assert "no ReferenceGrant" in no_grant["message"]
    grant = {
        "apiVersion": "gateway.networking.k8s.io/v1beta1",
        "kind": "ReferenceGrant",
        "metadata": {"name": "from-gateways", "namespace": new},
        "spec": {
            "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": third}],
            "to": [{"group": "", "kind": "Service"}],
        },
    }
    eventually(lambda: _applied(kube, grant), timeout=30)
    assert not [f for f in findings(full, capsys) if f["object"] == f"httproute {third}/web"], "the grant fixes it"

    capsys.readouterr()
    assert cli(["finalize", f"{old}/servicea", "--kubeconfig", str(full.kubeconfig)]) == 1
    assert f"ingress {old}/web send(s) to it" in capsys.readouterr().err


def _applied(kube: Kube, manifest: JsonObject) -> bool:
    try:
        kube.apply(manifest)
    except ApiError:  # the CRD is not served yet
        return False
    return True
