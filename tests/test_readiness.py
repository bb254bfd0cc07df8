"""Readiness findings of a moved workload: what it names that its new namespace lacks, a pod creation
its namespace refuses, and how admission says them."""

from __future__ import annotations

from tests.memory import MemoryCluster
from webhook.core import labels
from webhook.core.dependencies import Dependency, dependencies
from webhook.core.fields import JsonObject
from webhook.core.mutation import plan_mutation
from webhook.core.objects import workload_from_object
from webhook.core.readiness import pod_from_template, workload_findings
from webhook.core.settings import Settings
from webhook.dev import seed

SETTINGS = Settings()


def needing(**spec: object) -> JsonObject:
    deployment = seed.deployment("appa", "foo", {})
    pod_spec = deployment["spec"]["template"]["spec"]
    pod_spec.update(spec)
    pod_spec["containers"][0]["env"] = [
        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"name": "FLAG", "valueFrom": {"configMapKeyRef": {"name": "flags", "key": "x", "optional": True}}},
    ]
    pod_spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    return deployment


def test_every_object_a_pod_spec_names_is_a_dependency_with_where_it_is_named() -> None:
    found = dependencies(
        needing(serviceAccountName="appa", imagePullSecrets=[{"name": "registry"}])["spec"]["template"]["spec"]
    )
    assert found == (
        Dependency("ConfigMap", "flags", "env FLAG", optional=True),
        Dependency("PersistentVolumeClaim", "data", "volume data"),
        Dependency("Secret", "db", "env PASSWORD"),
        Dependency("Secret", "registry", "imagePullSecrets"),
        Dependency("ServiceAccount", "appa", "serviceAccountName"),
    )


def test_missing_dependencies_are_findings_and_optional_ones_only_warnings() -> None:
    cluster = MemoryCluster.of(seed.new_namespace(), {"kind": "Secret", "metadata": {"name": "db", "namespace": "foo"}})
    workload = workload_from_object(needing())
    assert workload is not None
    findings, warnings = workload_findings(cluster, workload)
    assert [(f.reason, f.object) for f in findings] == [("MissingDependency", "deployment foo/appa")]
    assert "PersistentVolumeClaim data (volume data) does not exist in namespace foo" in findings[0].message
    assert warnings == ["deployment foo/appa: optional ConfigMap flags (env FLAG) does not exist in namespace foo"]


def test_a_view_that_cannot_know_a_kind_says_nothing_of_it() -> None:
    class NoSecrets(MemoryCluster):
        def exists(self, kind: str, namespace: str, name: str) -> bool | None:
            return None if kind == "Secret" else super().exists(kind, namespace, name)

    workload = workload_from_object(needing())
    assert workload is not None
    findings, _ = workload_findings(NoSecrets(), workload)
    assert all("Secret" not in f.message for f in findings)


def test_a_replica_failure_is_pods_rejected() -> None:
    refused = seed.deployment("appa", "foo", {})
    message = 'pods "appa-1" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true'
    refused["status"] = {
        "conditions": [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": message}]
    }
    workload = workload_from_object(refused)
    assert workload is not None
    (finding,) = workload_findings(MemoryCluster(), workload)[0]
    assert (finding.reason, finding.message) == ("PodsRejected", f"namespace foo refuses its pods: {message}")


def test_admission_warns_of_findings_from_the_cache_alone() -> None:
    cluster = MemoryCluster.of(*seed.old_namespace(), seed.new_namespace())
    plan = plan_mutation(needing(), cluster, SETTINGS, namespace="foo", operation="CREATE")
    assert [f.reason for f in plan.findings] == ["MissingDependency", "MissingDependency"]  # the claim, the Secret
    assert [w for w in plan.warnings if w.startswith("MissingDependency: ")] == [f.warning() for f in plan.findings]


def test_admission_outside_a_migration_checks_nothing() -> None:
    plan = plan_mutation(
        needing(), MemoryCluster.of(seed.namespace("foo")), SETTINGS, namespace="foo", operation="CREATE"
    )
    assert plan.findings == []


def test_a_dry_run_pod_is_the_template_in_the_workloads_namespace() -> None:
    pod = pod_from_template(seed.deployment("appa", "foo", {"A": "b"}))
    assert pod is not None
    assert (pod["kind"], pod["metadata"]["namespace"], pod["metadata"]["labels"]) == ("Pod", "foo", {"app": "appa"})
    assert pod["spec"]["containers"][0]["env"] == [{"name": "A", "value": "b"}]
    assert labels.PROXY not in pod["metadata"]["labels"]
