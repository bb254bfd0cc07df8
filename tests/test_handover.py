"""Handover rules: what the old Service becomes, who owns it, when it may go, and finalize's checks."""

from __future__ import annotations

import datetime
import json

import pytest

from tests.memory import MemoryCluster
from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.core.handover import finalize_problems, handover_manifest, pending_handovers, rollback_manifest
from webhook.core.objects import Service, ServicePort
from webhook.core.owners import owner_of
from webhook.core.proxies import describe, plan_proxy
from webhook.core.settings import Settings
from webhook.dev import seed

LIVE: JsonObject = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web", "namespace": "legacy", "labels": {labels.MANAGED_BY: "Helm"}},
    "spec": {
        "type": "LoadBalancer",
        "clusterIP": "10.0.0.9",
        "clusterIPs": ["10.0.0.9"],
        "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080, "protocol": "TCP"}],
        "sessionAffinity": "ClientIP",
    },
    "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}},
}
TARGET = Service("team", "web", selector={"app": "web"}, ports=(ServicePort(8080, name="http", target_port=8080),))


def test_a_handover_removes_only_the_selector_and_keeps_every_other_field() -> None:
    handed = handover_manifest(LIVE, target=TARGET)
    expected_spec = {k: v for k, v in LIVE["spec"].items() if k != "selector"}
    assert handed["spec"] == expected_spec
    assert handed["status"] == LIVE["status"]
    assert handed["metadata"]["labels"] == {labels.MANAGED_BY: "Helm", labels.PROXY: "true"}
    annotations = handed["metadata"]["annotations"]
    assert annotations[labels.PROXY_FOR] == "team/web"
    assert json.loads(annotations[labels.ORIGINAL_SPEC]) == LIVE["spec"]


def test_rollback_restores_the_spec_and_the_labels_and_marks_the_service() -> None:
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    restored = rollback_manifest(handover_manifest(LIVE, target=TARGET), now=now)
    assert restored["spec"] == LIVE["spec"]
    assert restored["metadata"]["labels"] == {labels.MANAGED_BY: "Helm"}
    assert restored["metadata"]["annotations"] == {labels.ROLLED_BACK: "2026-01-02T03:04:05Z"}


@pytest.mark.parametrize(
    ("metadata", "owner"),
    [
        pytest.param({"annotations": {"meta.helm.sh/release-name": "web"}}, "Helm release web", id="helm-annotation"),
        pytest.param({"labels": {labels.MANAGED_BY: "Helm"}}, "Helm", id="helm-label"),
        pytest.param({"labels": {"argocd.argoproj.io/instance": "shop"}}, "Argo CD application shop", id="argocd"),
        pytest.param(
            {"annotations": {"argocd.argoproj.io/tracking-id": "shop:/Service:legacy/web"}},
            "Argo CD application shop",
            id="argocd-tracking",
        ),
        pytest.param({"labels": {"kustomize.toolkit.fluxcd.io/name": "apps"}}, "Flux Kustomization apps", id="flux"),
        pytest.param({"labels": {"helm.toolkit.fluxcd.io/name": "web"}}, "Flux HelmRelease web", id="flux-helm"),
        pytest.param({}, None, id="nobody"),
    ],
)
def test_the_owner_of_a_service_is_named(metadata: JsonObject, owner: str | None) -> None:
    assert (
        owner_of(
            Service("legacy", "web", labels=metadata.get("labels", {}), annotations=metadata.get("annotations", {}))
        )
        == owner
    )


def migration(*, owned_allowed: bool, owner: bool = True) -> MemoryCluster:
    old = seed.service("servicea", "foobar", "appa")
    if owner:
        old["metadata"]["annotations"] = {"meta.helm.sh/release-name": "legacy"}
    new_labels = {labels.MIGRATE_FROM: "foobar"} | ({labels.HANDOVER_OWNED: "true"} if owned_allowed else {})
    deployment = seed.deployment("appa", "foo", {})
    deployment["status"] = {"readyReplicas": 1, "conditions": [{"type": "Available", "status": "True"}]}
    return MemoryCluster.of(
        seed.namespace("foobar", {labels.SOURCE: "true"}),
        seed.namespace("foo", new_labels),
        old,
        seed.service("servicea", "foo", "appa"),
        deployment,
    )


def test_an_owned_service_is_not_handed_over_automatically_and_says_what_to_change() -> None:
    (handover,) = pending_handovers(migration(owned_allowed=False), Settings())
    assert handover.ready
    assert not handover.automatic
    assert handover.owner == "Helm release legacy"
    assert f"{labels.HANDOVER_OWNED}=true" in handover.owner_advice


def test_an_owned_service_is_handed_over_where_the_new_namespace_allows_it() -> None:
    (handover,) = pending_handovers(migration(owned_allowed=True), Settings())
    assert handover.automatic


def test_a_port_the_new_side_cannot_serve_blocks_the_handover() -> None:
    cluster = migration(owned_allowed=False, owner=False)
    cluster.service_records = [
        s
        if s.namespace == "foobar"
        else Service(
            "foo",
            "servicea",
            selector={"app": "appa"},
            ports=(ServicePort(443, name="https"), ServicePort(9000, name="x")),
        )
        for s in cluster.service_records
    ]
    (handover,) = pending_handovers(cluster, Settings())
    assert not handover.ready
    assert "port 80/TCP (http) of foobar/servicea has no counterpart in foo/servicea" in handover.reason


def mirrored(**fields: object) -> Service:
    annotations = {labels.PROXY_FOR: "foo/servicea", labels.ORIGINAL_SPEC: "{}"}
    base: dict[str, object] = {
        "labels": {labels.PROXY: "true"},
        "annotations": annotations,
        "ports": (ServicePort(80),),
        "cluster_ip": "10.0.0.5",
    }
    return Service("foobar", "servicea", **{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("service", "pod_names", "problem"),
    [
        pytest.param(mirrored(type="LoadBalancer"), False, "it is a LoadBalancer Service", id="load-balancer"),
        pytest.param(mirrored(type="NodePort"), False, "it is a NodePort Service", id="node-port"),
        pytest.param(mirrored(cluster_ip="None"), False, "it serves pod names", id="headless"),
        pytest.param(mirrored(), True, "it serves pod names", id="pod-hostnames"),
        pytest.param(mirrored(ports=(ServicePort(81),)), False, "port 81/TCP is not served", id="ports"),
    ],
)
def test_finalize_refuses_what_an_external_name_would_break(service: Service, pod_names: bool, problem: str) -> None:
    target = Service("foo", "servicea", ports=(ServicePort(80),))
    problems = finalize_problems(service, target, pod_names=pod_names)
    assert any(problem in found for found in problems), problems


def test_finalize_accepts_a_compatible_cluster_ip_service() -> None:
    assert finalize_problems(mirrored(), Service("foo", "servicea", ports=(ServicePort(80),)), pod_names=False) == []


def test_admission_warns_that_an_owned_live_service_waits() -> None:
    owned = Service("foobar", "web", annotations={"meta.helm.sh/release-name": "legacy"})
    plan = plan_proxy(target=TARGET, old_namespace="foobar", existing=owned, callers=[], cluster_domain="cluster.local")
    warning = describe(plan, dry_run=False)
    assert warning == (
        "foobar/web is managed by Helm release legacy: not handed over automatically (see nsmigrate status)"
    )
    assert len(warning) < 120
