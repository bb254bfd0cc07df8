"""The handover's NetworkPolicy gate: a known caller the new namespace's policies would refuse holds
the handover back; admitting the caller (or nsmigrate's own nsmigrate-callers policy) releases it."""

from __future__ import annotations

from typing import Any

from tests.memory import MemoryCluster
from webhook.core import labels, netgate
from webhook.core.fields import JsonObject
from webhook.core.handover import pending_handovers
from webhook.core.netpol import policy_from_object
from webhook.core.readiness import plan_readiness
from webhook.core.settings import Settings
from webhook.dev import seed

SETTINGS = Settings()


def available(manifest: JsonObject) -> JsonObject:
    manifest["status"] = {"readyReplicas": 1, "conditions": [{"type": "Available", "status": "True"}]}
    return manifest


def policy(namespace: str, name: str, **spec: Any) -> JsonObject:
    return {
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"podSelector": {}, **spec},
    }


DENY_ALL = policy("foo", "default-deny", policyTypes=["Ingress"])
SAME_NAMESPACE = policy("foo", "same-namespace", ingress=[{"from": [{"podSelector": {}}]}])
FROM_FOOBAR = policy(
    "foo",
    "from-foobar",
    ingress=[{"from": [{"namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: "foobar"}}}]}],
)


def moving(*extra: JsonObject, new_labels: dict[str, str] | None = None) -> MemoryCluster:
    """appa Available in foo, foobar/servicea still live, appc in foobar calling it."""
    new = seed.namespace("foo", {labels.MIGRATE_FROM: "foobar", **(new_labels or {})})
    return MemoryCluster.of(
        *seed.old_namespace(),
        new,
        seed.service("servicea", "foo", "appa"),
        available(seed.deployment("appa", "foo", {})),
        *extra,
    )


def test_without_policies_the_handover_goes_ahead() -> None:
    (handover,) = pending_handovers(moving(), SETTINGS)
    assert handover.automatic
    assert handover.held == ()


def test_a_default_deny_in_the_new_namespace_holds_the_handover_and_names_the_caller_and_the_policy() -> None:
    (handover,) = pending_handovers(moving(DENY_ALL), SETTINGS)
    assert not handover.automatic
    (finding,) = handover.held
    assert (finding.reason, finding.object, finding.holds) == (
        "NetworkPolicyBlocksCallers",
        "service foobar/servicea",
        True,
    )
    assert finding.caller == "deployment foobar/appc"
    assert finding.cause == "networkpolicy foo/default-deny"
    assert "refuses port 8080/TCP" in finding.message


def test_a_same_namespace_only_policy_holds_it_too() -> None:
    (handover,) = pending_handovers(moving(SAME_NAMESPACE), SETTINGS)
    assert [f.caller for f in handover.held] == ["deployment foobar/appc"]


def test_admitting_the_callers_namespace_releases_it() -> None:
    (handover,) = pending_handovers(moving(DENY_ALL, FROM_FOOBAR), SETTINGS)
    assert handover.automatic


def test_the_callers_egress_that_admits_only_the_old_namespace_holds_it() -> None:
    egress = policy(
        "foobar",
        "egress-same-namespace",
        policyTypes=["Egress"],
        egress=[{"to": [{"namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: "foobar"}}}]}],
    )
    (handover,) = pending_handovers(moving(egress), SETTINGS)
    (finding,) = handover.held
    assert "the caller's Egress" in finding.message


def test_a_caller_known_only_through_a_configmap_counts_through_its_consumer() -> None:
    configmap = {
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "namespace": "foobar"},
        "data": {"URL": "http://servicea/"},
    }
    reader = seed.deployment("reader", "foobar", {})
    reader["spec"]["template"]["spec"]["containers"][0]["envFrom"] = [{"configMapRef": {"name": "cfg"}}]
    cluster = moving(DENY_ALL, configmap, reader)
    (handover,) = pending_handovers(cluster, SETTINGS)
    assert sorted(f.caller for f in handover.held) == ["configmap foobar/cfg", "deployment foobar/appc"]


def test_host_network_callers_are_not_judged_by_pod_policies() -> None:
    cluster = moving(DENY_ALL)
    appc = seed.deployment("appc", "foobar", seed.CALLS["c"])
    appc["spec"]["template"]["spec"]["hostNetwork"] = True
    cluster.workload_records = [w for w in cluster.workload_records if w.name != "appc"]
    cluster.add(appc)
    (handover,) = pending_handovers(cluster, SETTINGS)
    assert handover.held == ()


def test_allow_callers_keeps_a_policy_for_exactly_the_known_callers_namespaces_on_the_pod_ports() -> None:
    cluster = moving(DENY_ALL, new_labels={labels.ALLOW_CALLERS: "true"})
    (apply,) = plan_readiness(cluster, SETTINGS).actions
    assert (apply.verb, apply.namespace, apply.name) == ("apply", "foo", netgate.ALLOW_CALLERS_POLICY)
    rule = apply.body["spec"]["ingress"][0]
    assert rule["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"] == ["foobar"]
    assert rule["ports"] == [{"port": 8080, "protocol": "TCP"}]
    assert apply.body["metadata"]["labels"] == {labels.MANAGED_BY: labels.MANAGER}
    cluster.add({**apply.body, "kind": "NetworkPolicy"})
    (handover,) = pending_handovers(cluster, SETTINGS)
    assert handover.automatic  # the policy admits the caller: released
    assert plan_readiness(cluster, SETTINGS).actions == []  # and it is written once


def test_the_callers_policy_goes_once_the_label_does() -> None:
    cluster = moving(DENY_ALL)
    cluster.add(
        {**netgate.callers_policy("foo", caller_namespaces=["foobar"], ports=[(8080, "TCP")]), "kind": "NetworkPolicy"}
    )
    (delete,) = plan_readiness(cluster, SETTINGS).actions
    assert (delete.verb, delete.name) == ("delete", netgate.ALLOW_CALLERS_POLICY)


def test_policies_that_admit_the_old_namespace_by_name_elsewhere_are_named() -> None:
    elsewhere = policy(
        "db",
        "from-foobar",
        ingress=[{"from": [{"namespaceSelector": {"matchLabels": {labels.NAMESPACE_NAME: "foobar"}}}]}],
    )
    findings = plan_readiness(moving(elsewhere), SETTINGS).findings
    assert [(f.object, f.holds) for f in findings] == [("networkpolicy db/from-foobar", False)]


def test_policy_views_compare_equal_when_their_manifests_agree() -> None:
    assert policy_from_object(DENY_ALL) == policy_from_object(DENY_ALL)
