from typing import Any

import pytest

from webhook.core.callers import candidate_names, find_callers, old_names, referring
from webhook.core.fields import JsonObject
from webhook.core.objects import ConfigMap, Workload, configmap_from_object, workload_from_object
from webhook.dev import seed


def workload(
    name: str,
    namespace: str = "foobar",
    *,
    env: dict[str, str] | None = None,
    kind: str = "Deployment",
    owner: str | None = None,
    env_from: str | None = None,
    **spec: Any,
) -> Workload:
    container: dict[str, Any] = {"name": name, "env": [{"name": k, "value": v} for k, v in (env or {}).items()]}
    if env_from:
        container["envFrom"] = [{"configMapRef": {"name": env_from}}]
    return pod_spec_workload(kind, namespace, name, {"containers": [container], **spec}, owner=owner)


def pod_spec_workload(
    kind: str, namespace: str, name: str, pod_spec: JsonObject, *, owner: str | None = None
) -> Workload:
    obj: JsonObject = {"kind": kind, "metadata": {"name": name, "namespace": namespace}}
    if owner:
        obj["metadata"]["ownerReferences"] = [{"kind": owner, "name": "owner", "controller": True}]
    if kind == "Pod":
        obj["spec"] = pod_spec
    elif kind == "CronJob":
        obj["spec"] = {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}
    else:
        obj["spec"] = {"template": {"spec": pod_spec}}
    workload = workload_from_object(obj)
    assert workload is not None
    return workload


def configmap(namespace: str, name: str, data: dict[str, str]) -> ConfigMap:
    return configmap_from_object(
        {"kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": data}
    )


def callers(*workloads: Workload, configmaps: tuple[ConfigMap, ...] = ()) -> list[str]:
    found = find_callers(
        service="servicea",
        namespace="foobar",
        workloads=workloads,
        configmaps=configmaps,
        cluster_domain="cluster.local",
    )
    return [caller.describe() for caller in found]


@pytest.mark.parametrize(
    ("value", "from_namespace", "calls"),
    [
        pytest.param("servicea", "foobar", True, id="bare-short-name-same-namespace"),
        pytest.param("servicea:80", "foobar", True, id="host-port-same-namespace"),
        pytest.param("http://servicea/", "foobar", True, id="url-same-namespace"),
        pytest.param("http://servicea.foobar/", "bar", True, id="name-dot-namespace-from-elsewhere"),
        pytest.param("servicea.foobar.svc:80", "bar", True, id="svc-name-from-elsewhere"),
        pytest.param("http://servicea.foobar.svc.cluster.local/", "bar", True, id="full-name-from-elsewhere"),
        pytest.param("http://servicea.foobar.svc.cluster.local./", "bar", True, id="absolute-full-name"),
        pytest.param("http://SERVICEA.FOOBAR/", "bar", True, id="case-insensitive"),
        pytest.param("http://servicea/", "bar", False, id="short-name-from-another-namespace"),
        pytest.param("http://servicea.foo/", "foobar", False, id="same-name-other-namespace"),
        pytest.param("http://serviceab/", "foobar", False, id="longer-name"),
        pytest.param("http://servicea.foobar.svc.other.domain/", "bar", False, id="other-cluster-domain"),
        pytest.param("$(SERVICEA):80", "foobar", False, id="dependent-variable"),
        pytest.param("servicea-0.servicea:80", "foobar", True, id="pod-name-same-namespace"),
        pytest.param("servicea-0.servicea.foobar.svc:80", "bar", True, id="qualified-pod-name-from-elsewhere"),
        pytest.param("servicea-0.servicea:80", "bar", False, id="pod-name-from-another-namespace"),
    ],
)
def test_reference_forms(value: str, from_namespace: str, calls: bool) -> None:
    found = callers(workload("appc", from_namespace, env={"SERVICEA_HOST": value}))
    assert bool(found) is calls


def test_caller_names_kind_namespace_name_and_env() -> None:
    assert callers(workload("appc", env={"SERVICEA_URL": "http://servicea/", "OTHER": "x"})) == [
        "deployment foobar/appc (env SERVICEA_URL)"
    ]


def test_args_and_command_entries_are_callers_too() -> None:
    found = callers(
        pod_spec_workload(
            "Deployment",
            "foobar",
            "appc",
            {"containers": [{"name": "c", "command": ["wait-for", "servicea:80"], "args": ["--upstream", "servicea"]}]},
        )
    )
    assert found == ["deployment foobar/appc (args[1], command[1])"]


def test_a_variable_used_as_a_host_by_another_value_is_a_caller() -> None:
    env = {"COLLECTOR_NAME": "servicea", "ENDPOINT": "http://$(COLLECTOR_NAME):4317"}
    assert callers(workload("appc", env=env)) == ["deployment foobar/appc (env COLLECTOR_NAME)"]


def test_a_configmap_file_line_is_a_caller() -> None:
    configmap = configmap_from_object(
        {"metadata": {"name": "conf", "namespace": "foobar"}, "data": {"app.yaml": "cache:\n  host: servicea\n"}}
    )
    assert configmap.key_hosts == {"app.yaml": ("servicea",)}


def test_several_envs_of_one_workload_are_one_caller() -> None:
    found = callers(workload("appc", env={"B_URL": "http://servicea/", "A_URL": "servicea:80"}))
    assert found == ["deployment foobar/appc (env A_URL, env B_URL)"]


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"])
def test_every_workload_kind_is_a_caller(kind: str) -> None:
    assert callers(workload("x", kind=kind, env={"U": "http://servicea/"})) == [f"{kind.lower()} foobar/x (env U)"]


@pytest.mark.parametrize(
    ("kind", "owner"),
    [("Pod", "ReplicaSet"), ("Pod", "StatefulSet"), ("Pod", "DaemonSet"), ("Pod", "Job"), ("Job", "CronJob")],
)
def test_controlled_pods_and_jobs_count_through_their_owner(kind: str, owner: str) -> None:
    assert callers(workload("x", kind=kind, owner=owner, env={"U": "http://servicea/"})) == []


def test_pod_owned_by_something_unknown_still_counts() -> None:
    assert callers(workload("x", kind="Pod", owner="SomeOperator", env={"U": "http://servicea/"})) == [
        "pod foobar/x (env U)"
    ]


def test_init_containers_count() -> None:
    found = callers(
        workload("x", initContainers=[{"name": "i", "env": [{"name": "WAIT_FOR", "value": "servicea:80"}]}])
    )
    assert found == ["deployment foobar/x (env WAIT_FOR)"]


def test_configmap_consumed_through_env_from_is_a_caller() -> None:
    settings = configmap("foobar", "settings", {"CHECKOUT_ADDR": "servicea:80", "MODE": "fast"})
    ops = workload("ops", env_from="settings")
    assert callers(ops, configmaps=(settings,)) == [
        "configmap foobar/settings (key CHECKOUT_ADDR) used by deployment foobar/ops"
    ]


def test_configmap_key_ref_reads_only_that_key() -> None:
    settings = configmap("foobar", "settings", {"CHECKOUT_ADDR": "servicea:80", "OTHER_URL": "http://servicea/"})
    reader = pod_spec_workload(
        "Deployment",
        "foobar",
        "ops",
        {
            "containers": [
                {
                    "name": "c",
                    "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "OTHER_URL"}}}],
                }
            ]
        },
    )
    assert callers(reader, configmaps=(settings,)) == [
        "configmap foobar/settings (key OTHER_URL) used by deployment foobar/ops"
    ]


def test_configmap_mounted_as_volume_is_consumed() -> None:
    settings = configmap("foobar", "files", {"upstream.conf": "proxy_pass http://servicea/;"})
    reader = workload("web", volumes=[{"name": "conf", "configMap": {"name": "files"}}])
    assert callers(reader, configmaps=(settings,)) == [
        "configmap foobar/files (key upstream.conf) used by deployment foobar/web"
    ]


def test_configmap_nobody_consumes_is_not_a_caller() -> None:
    assert callers(configmaps=(configmap("foobar", "orphan", {"A_URL": "http://servicea/"}),)) == []


def test_configmap_consumed_from_another_namespace_does_not_count() -> None:
    settings = configmap("foobar", "settings", {"A_URL": "http://servicea/"})
    elsewhere = workload("ops", "bar", env_from="settings")
    assert callers(elsewhere, configmaps=(settings,)) == []


def test_unrelated_namespaces_and_names_are_not_callers() -> None:
    assert (
        callers(
            workload("x", "bar", env={"U": "http://servicea/"}),
            workload("y", "foobar", env={"U": "http://serviceb/"}),
            workload("z", "foobar", env={"MODE": "servicea"}),
        )
        == []
    )


def test_callers_are_sorted_workloads_first() -> None:
    settings = configmap("foobar", "settings", {"A_URL": "http://servicea/"})
    found = callers(
        workload("zeta", env={"U": "servicea:1"}),
        workload("alpha", "bar", env={"U": "servicea.foobar:1"}),
        workload("ops", env_from="settings"),
        configmaps=(settings,),
    )
    assert found == [
        "deployment bar/alpha (env U)",
        "deployment foobar/zeta (env U)",
        "configmap foobar/settings (key A_URL) used by deployment foobar/ops",
    ]


def test_old_names() -> None:
    assert old_names("servicea", "foobar", "cluster.local") == {
        "servicea.foobar",
        "servicea.foobar.svc",
        "servicea.foobar.svc.cluster.local",
    }


def test_referring_selects_by_host_and_brings_the_consumers_of_referring_configmaps() -> None:
    settings = configmap("foobar", "settings", {"A_URL": "http://servicea/"})
    unrelated = configmap("foobar", "other", {"B_URL": "http://serviceb/"})
    caller = workload("caller", env={"U": "http://servicea.foobar/"})
    consumer = workload("consumer", env_from="settings")
    bystander = workload("bystander", env={"U": "http://serviceb/"})
    workloads, configmaps = referring(
        candidate_names("servicea", "foobar", "cluster.local"),
        [caller, consumer, bystander],
        [settings, unrelated],
    )
    assert [w.name for w in workloads] == ["caller", "consumer"]
    assert [c.name for c in configmaps] == ["settings"]


def test_a_downward_namespace_reference_calls_the_service_of_its_own_namespace() -> None:
    caller = seed.deployment("repmgr", "foobar", {"PARTNERS": "db-0.db-headless.$(NS).svc.cluster.local"})
    caller["spec"]["template"]["spec"]["containers"][0]["env"].insert(
        0, {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}
    )
    workload = workload_from_object(caller)
    assert workload is not None
    (found,) = find_callers(
        service="db-headless", namespace="foobar", workloads=[workload], configmaps=[], cluster_domain="cluster.local"
    )
    assert found.places == ("env PARTNERS",)
