import copy
import json
from typing import Any

import jsonpatch
import pytest

from tests.memory import MemoryCluster
from tests.reviews import review
from webhook.core import labels
from webhook.core.cluster import ClusterView
from webhook.core.fields import JsonObject
from webhook.core.mutation import MutationPlan, admit_workload, plan_mutation
from webhook.core.objects import Namespace, Service
from webhook.core.review import AdmissionRequest, Operation
from webhook.core.settings import Settings
from webhook.dev import seed
from webhook.kube.cache import Cache

SETTINGS = Settings()
B = "serviceb.foobar.svc.cluster.local"


def seeded(*extra: JsonObject, consent: bool = True) -> MemoryCluster:
    """foobar with appa, appb, appc (appc calls servicea); foo migrating from it; servicea retired."""
    manifests = [m for m in seed.old_namespace("foobar") if m["metadata"].get("name") not in ("appa", "servicea")]
    if not consent:
        manifests[0] = seed.namespace("foobar")
    return MemoryCluster.of(*manifests, seed.new_namespace("foo"), seed.app("a", "foo")[0], *extra)


def appa(namespace: str = "foo", env: dict[str, str] | None = None) -> JsonObject:
    return seed.deployment("appa", namespace, env if env is not None else seed.CALLS["a"])


def request_for(obj: JsonObject, **kwargs: Any) -> AdmissionRequest:
    return review(obj, **kwargs)["request"]  # type: ignore[no-any-return]


def plan_for(
    obj: JsonObject, view: ClusterView, settings: Settings, *, operation: Operation = "CREATE"
) -> MutationPlan:
    """The plan for ``obj`` as admitted into its own namespace."""
    return plan_mutation(obj, view, settings, namespace=obj["metadata"]["namespace"], operation=operation)


def apply_patch(obj: JsonObject, patch: list[JsonObject]) -> JsonObject:
    return jsonpatch.apply_patch(obj, patch)  # type: ignore[no-any-return]


def test_short_url_is_qualified_with_the_old_namespace() -> None:
    plan = plan_for(appa(), seeded(), SETTINGS)
    mutated = apply_patch(appa(), plan.patch)
    assert mutated["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "SERVICEB_URL", "value": f"http://{B}/"}
    ]


def test_patch_replaces_only_the_changed_value_and_adds_the_annotation() -> None:
    plan = plan_for(appa(env={"A": "1", "SERVICEB_URL": "http://serviceb/"}), seeded(), SETTINGS)
    assert [(op["op"], op["path"]) for op in plan.patch] == [
        ("add", "/metadata/annotations"),
        ("replace", "/spec/template/spec/containers/0/env/1/value"),
    ]


def test_annotation_lists_every_rewrite() -> None:
    plan = plan_for(appa(), seeded(), SETTINGS)
    mutated = apply_patch(appa(), plan.patch)
    assert json.loads(mutated["metadata"]["annotations"][labels.REWRITTEN_ENV]) == [
        {"container": "appa", "env": "SERVICEB_URL", "from": "http://serviceb/", "to": f"http://{B}/"}
    ]


def test_each_rewrite_comes_back_as_a_short_warning() -> None:
    result = admit_workload(request_for(appa()), seeded(), SETTINGS)
    assert f"nsmigrate: env SERVICEB_URL (appa): serviceb -> {B} (url)" in result.response.warnings
    assert all(len(w) < 120 for w in result.response.warnings)


def test_mutating_the_mutated_object_yields_no_patch() -> None:
    cluster = seeded()
    once = apply_patch(appa(), plan_for(appa(), cluster, SETTINGS).patch)
    assert plan_for(once, cluster, SETTINGS, operation="UPDATE").patch == []


def test_update_with_short_names_is_rewritten_again_and_keeps_earlier_records() -> None:
    cluster = seeded()
    env = {"SERVICEB_URL": "http://serviceb/", "DB_HOST": "serviceb"}
    stored = apply_patch(appa(env=env), plan_for(appa(env=env), cluster, SETTINGS).patch)
    update = copy.deepcopy(stored)
    update["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"] = "serviceb"
    mutated = apply_patch(update, plan_for(update, cluster, SETTINGS, operation="UPDATE").patch)
    assert mutated["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"] == B
    records = json.loads(mutated["metadata"]["annotations"][labels.REWRITTEN_ENV])
    assert [r["env"] for r in records] == ["SERVICEB_URL", "DB_HOST"]


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet", "Job"])
def test_other_workload_kinds_with_a_pod_template_are_rewritten(kind: str) -> None:
    obj = appa()
    obj["kind"] = kind
    plan = plan_for(obj, seeded(), SETTINGS)
    assert [r.after for r in plan.rewrites] == [f"http://{B}/"]


def test_cronjob_pod_template_is_rewritten() -> None:
    template = appa()["spec"]["template"]
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "foo"},
        "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}},
    }
    plan = plan_for(cronjob, seeded(), SETTINGS)
    patched = apply_patch(cronjob, plan.patch)
    env = patched["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0]["value"] == f"http://{B}/"


def test_skip_annotation_leaves_the_workload_alone() -> None:
    obj = appa()
    obj["metadata"]["annotations"] = {labels.SKIP: "true"}
    plan = plan_for(obj, seeded(), SETTINGS)
    assert (plan.patch, plan.proxies, plan.warnings) == ([], [], [])


def test_unlabelled_namespace_is_untouched() -> None:
    cluster = seeded(seed.namespace("plain"))
    plan = plan_for(appa("plain"), cluster, SETTINGS)
    assert (plan.patch, plan.warnings) == ([], [])


@pytest.mark.parametrize("protected", ["kube-system", "nsmigrate"])
def test_system_and_own_namespaces_are_never_a_source(protected: str) -> None:
    cluster = seeded(seed.namespace("bar", {labels.MIGRATE_FROM: protected}), seed.namespace(protected))
    plan = plan_for(appa("bar"), cluster, SETTINGS)
    assert plan.patch == []
    assert plan.warnings == [f"{labels.MIGRATE_FROM}={protected} on namespace bar is ignored"]


def test_missing_old_namespace_is_said() -> None:
    cluster = seeded(seed.namespace("bar", {labels.MIGRATE_FROM: "gone"}))
    plan = plan_for(appa("bar"), cluster, SETTINGS)
    assert plan.patch == []
    assert plan.warnings == [f"namespace gone ({labels.MIGRATE_FROM} of bar) does not exist"]


def test_proxy_is_created_where_the_old_name_is_still_called() -> None:
    cluster = seeded()
    result = admit_workload(request_for(appa()), cluster, SETTINGS)
    assert result.created == ["foobar/servicea"]
    (proxy,) = cluster.created
    assert proxy == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "servicea",
            "namespace": "foobar",
            "labels": {labels.MANAGED_BY: labels.MANAGER, labels.PROXY: "true"},
            "annotations": {labels.PROXY_FOR: "foo/servicea"},
        },
        "spec": {
            "type": "ExternalName",
            "externalName": "servicea.foo.svc.cluster.local",
            "ports": [{"port": 80, "protocol": "TCP", "name": "http", "targetPort": 8080}],
        },
    }


def test_new_service_nobody_calls_gets_no_proxy() -> None:
    metrics = seed.service("appa-metrics", "foo", "appa", port=9090)
    cluster = seeded(metrics)
    result = admit_workload(request_for(appa()), cluster, SETTINGS)
    assert result.created == ["foobar/servicea"]
    assert [(p.name, p.step) for p in result.plan.proxies] == [("servicea", "create"), ("appa-metrics", "unneeded")]


def test_caller_by_full_name_from_another_namespace_needs_a_proxy() -> None:
    cluster = MemoryCluster.of(
        seed.namespace("foobar", {labels.SOURCE: "true"}),
        seed.new_namespace("foo"),
        seed.namespace("bar"),
        seed.app("a", "foo")[0],
        seed.deployment("appx", "bar", {"A": "http://servicea.foobar.svc.cluster.local/"}),
    )
    assert admit_workload(request_for(appa()), cluster, SETTINGS).created == ["foobar/servicea"]


def test_dry_run_creates_nothing_but_says_what_it_would_do() -> None:
    cluster = seeded()
    result = admit_workload(request_for(appa(), dry_run=True), cluster, SETTINGS)
    assert cluster.created == []
    assert result.response.patch
    assert any("would create proxy foobar/servicea" in w for w in result.response.warnings)


def test_old_namespace_without_consent_gets_rewrites_but_no_proxy() -> None:
    cluster = seeded(consent=False)
    result = admit_workload(request_for(appa()), cluster, SETTINGS)
    assert cluster.created == []
    assert result.plan.rewrites
    assert f"nsmigrate: no proxies: namespace foobar lacks the consent label {labels.SOURCE}=true" in (
        result.response.warnings
    )


def test_existing_proxy_for_the_same_target_is_left_as_is() -> None:
    cluster = seeded()
    admit_workload(request_for(appa()), cluster, SETTINGS)
    again = admit_workload(request_for(appa()), cluster, SETTINGS)
    assert again.created == []
    assert [p.step for p in again.plan.proxies] == ["present"]


def test_proxy_for_another_target_is_left_alone_with_a_warning() -> None:
    cluster = seeded()
    admit_workload(request_for(appa()), cluster, SETTINGS)
    cluster.add(seed.new_namespace("foo2"))
    cluster.add(seed.service("servicea", "foo2", "appa"))
    result = admit_workload(request_for(appa("foo2")), cluster, SETTINGS)
    assert result.created == []
    assert any("left alone: it is already the proxy for foo/servicea" in w for w in result.response.warnings)


def test_live_service_of_the_same_name_is_not_touched_and_handover_is_announced() -> None:
    cluster = MemoryCluster.of(*seed.old_namespace("foobar"), seed.new_namespace("foo"), seed.app("a", "foo")[0])
    result = admit_workload(request_for(appa()), cluster, SETTINGS)
    assert cluster.created == []
    assert [p.step for p in result.plan.proxies] == ["handover"]


def test_failed_proxy_creation_warns_and_still_admits_the_rewrite() -> None:
    cluster = seeded()
    cluster.fail_writes = TimeoutError("read timed out")
    result = admit_workload(request_for(appa()), cluster, SETTINGS)
    assert result.response.allowed
    assert result.response.patch
    assert result.failed == ["foobar/servicea"]
    assert "nsmigrate: could not create proxy foobar/servicea: read timed out" in result.response.warnings


def test_configmap_holding_short_names_is_named_in_a_warning() -> None:
    settings = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "foo"},
        "data": {"BACKEND_URL": "http://serviceb/", "MODE": "fast"},
    }
    obj = appa()
    obj["spec"]["template"]["spec"]["containers"][0]["envFrom"] = [{"configMapRef": {"name": "settings"}}]
    plan = plan_for(obj, seeded(settings), SETTINGS)
    assert f"configmap settings key BACKEND_URL calls serviceb: use {B}" in plan.warnings


def test_cluster_domain_is_configurable() -> None:
    plan = plan_for(appa(), seeded(), Settings(cluster_domain="corp.internal"))
    assert [r.after for r in plan.rewrites] == ["http://serviceb.foobar.svc.corp.internal/"]


class CountingCluster(MemoryCluster):
    """The 'API server' behind a cache: counts the live reads made through it."""

    reads = 0

    def service(self, namespace: str, name: str) -> Service | None:
        self.reads += 1
        return super().service(namespace, name)

    def services(self, namespace: str | None = None) -> list[Service]:
        self.reads += 1
        return super().services(namespace)

    def namespace(self, name: str) -> Namespace | None:
        self.reads += 1
        return super().namespace(name)


def stale_cache(cached: list[JsonObject], live: list[JsonObject]) -> tuple[Cache, CountingCluster]:
    """A synced cache holding ``cached``, in front of an API server that already holds ``live``."""
    api = CountingCluster.of(*live)
    cache = Cache(api)
    for kind in cache.kinds:
        cache.replace(kind, [m for m in cached if m["kind"] == kind])
    return cache, api


def test_first_deploy_confirms_a_local_service_the_cache_has_not_seen() -> None:
    before = [*seed.old_namespace(), seed.new_namespace("foo")]
    local = seed.service("servicea", "foo", "appx")
    cache, api = stale_cache(before, [*before, local])
    caller = seed.deployment("appx", "foo", {"A": "http://servicea/"})
    plan = plan_for(caller, cache, SETTINGS)
    assert plan.rewrites == []
    assert api.reads == 1  # foo/servicea: the cache knows foobar/servicea already


def test_first_deploy_confirms_an_old_service_the_cache_has_not_seen() -> None:
    before = [seed.namespace("foobar", {labels.SOURCE: "true"}), seed.new_namespace("foo")]
    cache, _ = stale_cache(before, [*before, seed.service("serviceb", "foobar", "appb")])
    plan = plan_for(appa(), cache, SETTINGS)
    assert [r.after for r in plan.rewrites] == [f"http://{B}/"]


def test_namespace_the_cache_does_not_know_yet_is_read_live() -> None:
    before = seed.old_namespace()
    cache, _ = stale_cache(before, [*before, seed.new_namespace("foo")])
    plan = plan_for(appa(), cache, SETTINGS)
    assert [r.after for r in plan.rewrites] == [f"http://{B}/"]


def test_updates_and_settled_objects_are_decided_from_the_cache_alone() -> None:
    everything = [*seed.old_namespace(), seed.new_namespace("foo")]
    cache, api = stale_cache(everything, everything)
    update = plan_for(appa(), cache, SETTINGS, operation="UPDATE")
    stored = apply_patch(appa(), update.patch)
    plan_for(stored, cache, SETTINGS)  # a CREATE with nothing short left
    assert [r.after for r in update.rewrites] == [f"http://{B}/"]
    assert api.reads == 0


def test_args_and_command_are_patched_in_place_and_recorded() -> None:
    obj = appa(env={})
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["/app", "--backend", "serviceb"]
    container["args"] = ["--log-level", "info", "http://serviceb:8080/"]
    plan = plan_for(obj, seeded(), SETTINGS)
    assert [(op["op"], op["path"]) for op in plan.patch] == [
        ("add", "/metadata/annotations"),
        ("replace", "/spec/template/spec/containers/0/args/2"),
    ], "--backend is no address flag: only the URL changes"
    records = json.loads(apply_patch(obj, plan.patch)["metadata"]["annotations"][labels.REWRITTEN_ENV])
    assert records == [
        {"container": "appa", "env": "args[2]", "from": "http://serviceb:8080/", "to": f"http://{B}:8080/"}
    ]
    assert plan.warnings[0] == f"args[2] (appa): serviceb -> {B} (url)"


def test_keep_annotation_leaves_the_listed_variables_alone() -> None:
    obj = appa(env={"SERVICEB_URL": "http://serviceb/", "OTHER_URL": "http://serviceb/x"})
    obj["metadata"]["annotations"] = {labels.KEEP: "SERVICEB_URL, UNUSED"}
    plan = plan_for(obj, seeded(), SETTINGS)
    assert [r.env for r in plan.rewrites] == ["OTHER_URL"]


def test_a_statefulset_pod_name_is_qualified_on_first_deploy_though_the_cache_lags() -> None:
    before = [seed.namespace("foobar", {labels.SOURCE: "true"}), seed.new_namespace("foo")]
    cache, _ = stale_cache(before, [*before, seed.service("kafka-headless", "foobar", "kafka")])
    plan = plan_for(appa(env={"BROKERS": "kafka-0.kafka-headless:9092"}), cache, SETTINGS)
    assert [r.after for r in plan.rewrites] == ["kafka-0.kafka-headless.foobar.svc.cluster.local:9092"]
    assert plan.warnings[0].endswith("(host:port, pod name)")


def test_warnings_stay_under_the_limit_with_long_names() -> None:
    name = "a-very-long-service-name-that-goes-on"
    cluster = seeded(seed.service(name, "foobar", "x"))
    env = {"A_RATHER_LONG_VARIABLE_NAME_FOR_THE_URL": f"http://{name}/ http://serviceb/"}
    result = admit_workload(request_for(appa(env=env)), cluster, SETTINGS)
    assert all(len(warning) < 120 for warning in result.response.warnings)
    assert "(url)" in result.response.warnings[0]
