"""Identities a move leaves behind: grants and cloud or mesh trust that name the old namespace."""

from __future__ import annotations

from webhook.core.identity import Binding, binding_from_object, identity_findings
from webhook.core.objects import Workload, workload_from_object
from webhook.dev import seed


def moved(account: str | None = "appa") -> Workload:
    deployment = seed.deployment("appa", "foo", {})
    if account:
        deployment["spec"]["template"]["spec"]["serviceAccountName"] = account
    workload = workload_from_object(deployment)
    assert workload is not None
    return workload


def binding(namespace: str, subject_namespace: str, name: str = "reader") -> Binding:
    return binding_from_object(
        {
            "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace},
            "roleRef": {"kind": "Role", "name": "config-reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "appa", "namespace": subject_namespace}],
        }
    )


def test_a_binding_of_the_old_account_with_no_equivalent_for_the_new_one_is_a_finding() -> None:
    (finding,) = identity_findings(
        moved(), old="foobar", bindings=[binding("config", "foobar")], old_account_annotations={}
    )
    assert (finding.reason, finding.object) == ("IdentityBoundToOldNamespace", "deployment foo/appa")
    assert "rolebinding config/reader grants Role config-reader to serviceaccount foobar/appa" in finding.message


def test_an_equivalent_binding_for_the_new_account_clears_it() -> None:
    bindings = [binding("config", "foobar"), binding("config", "foo", name="reader-foo")]
    assert identity_findings(moved(), old="foobar", bindings=bindings, old_account_annotations={}) == []


def test_cloud_workload_identity_on_the_old_account_is_a_finding() -> None:
    annotations = {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/appa"}
    (finding,) = identity_findings(moved(), old="foobar", bindings=[], old_account_annotations=annotations)
    assert "system:serviceaccount:foobar:appa" in finding.message


def test_mesh_policies_naming_the_old_principal_are_findings() -> None:
    policy = {
        "metadata": {"name": "allow-appa", "namespace": "db"},
        "spec": {"rules": [{"from": [{"source": {"principals": ["cluster.local/ns/foobar/sa/appa"]}}]}]},
    }
    (finding,) = identity_findings(
        moved(), old="foobar", bindings=[], old_account_annotations={}, mesh_policies=[policy]
    )
    assert finding.cause == "authorizationpolicy db/allow-appa"


def test_the_default_account_is_compared_too() -> None:
    default = binding_from_object(
        {
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "view-default"},
            "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "foobar"}],
        }
    )
    (finding,) = identity_findings(moved(None), old="foobar", bindings=[default], old_account_annotations={})
    assert "clusterrolebinding view-default" in finding.message
