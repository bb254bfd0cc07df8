import json
from typing import Any

import jsonpatch

from tests.memory import MemoryCluster
from tests.reviews import review
from webhook.core import labels, report
from webhook.core.configmaps import admit_configmap, plan_configmap_mutation
from webhook.core.fields import JsonObject
from webhook.core.mutation import MutationPlan
from webhook.core.settings import Settings
from webhook.dev import seed

SETTINGS = Settings()
REDIS = "redis.foobar.svc.cluster.local"


def cluster(*, opted_in: bool = True) -> MemoryCluster:
    """foobar holds redis and db; foo migrates from it and, unless told otherwise, asks for ConfigMaps."""
    new = {labels.MIGRATE_FROM: "foobar"} | ({labels.REWRITE_CONFIGMAPS: "true"} if opted_in else {})
    return MemoryCluster.of(
        seed.namespace("foobar", {labels.SOURCE: "true"}),
        seed.namespace("foo", new),
        seed.service("redis", "foobar", "redis"),
        seed.service("db", "foobar", "db"),
    )


def configmap(data: dict[str, str], **annotations: str) -> JsonObject:
    metadata: dict[str, Any] = {"name": "settings", "namespace": "foo"}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def plan(obj: JsonObject, view: MemoryCluster | None = None) -> MutationPlan:
    return plan_configmap_mutation(obj, view or cluster(), SETTINGS, namespace="foo", operation="CREATE")


def test_data_values_are_rewritten_and_recorded_in_an_opted_in_namespace() -> None:
    obj = configmap({"REDIS_HOST": "redis", "MODE": "redis", "nginx.conf": "upstream db {\n  server db:5432;\n}\n"})
    decided = plan(obj)
    mutated = jsonpatch.apply_patch(obj, decided.patch)
    assert mutated["data"] == {
        "REDIS_HOST": REDIS,
        "MODE": "redis",
        "nginx.conf": "upstream db {\n  server db.foobar.svc.cluster.local:5432;\n}\n",
    }
    assert json.loads(mutated["metadata"]["annotations"][labels.REWRITTEN_ENV]) == [
        {"container": "", "env": "REDIS_HOST", "from": "redis", "to": REDIS},
        {
            "container": "",
            "env": "nginx.conf:2",
            "from": "  server db:5432;",
            "to": "  server db.foobar.svc.cluster.local:5432;",
        },
    ]
    assert decided.warnings == [
        f"key REDIS_HOST: redis -> {REDIS} (address variable)",
        "key nginx.conf:2: db -> db.foobar.svc.cluster.local (host:port)",
    ]


def test_the_patch_replaces_only_the_changed_values() -> None:
    decided = plan(configmap({"A": "1", "URL": "http://redis/"}))
    assert [(op["op"], op["path"]) for op in decided.patch] == [
        ("add", "/metadata/annotations"),
        ("replace", "/data/URL"),
    ]


def test_a_rewritten_configmap_yields_no_patch() -> None:
    obj = configmap({"URL": "http://redis/", "conf": "a=1\nhost=db\n"})
    once = jsonpatch.apply_patch(obj, plan(obj).patch)
    assert plan_configmap_mutation(once, cluster(), SETTINGS, namespace="foo", operation="UPDATE").patch == []


def test_without_the_label_configmaps_are_left_alone() -> None:
    assert plan(configmap({"URL": "http://redis/"}), cluster(opted_in=False)) == MutationPlan()


def test_keep_and_skip_annotations_are_honoured() -> None:
    assert plan(configmap({"URL": "http://redis/", "B": "db:1"}, **{labels.KEEP: "URL"})).rewrites[0].env == "B"
    assert plan(configmap({"URL": "http://redis/"}, **{labels.SKIP: "true"})) == MutationPlan()


def test_admission_answers_with_the_patch_and_prefixed_warnings() -> None:
    result = admit_configmap(review(configmap({"URL": "http://redis/"}))["request"], cluster(), SETTINGS)
    assert result.response.patch
    assert result.response.warnings == (f"nsmigrate: key URL: redis -> {REDIS} (url)",)


def test_nsmigrate_plan_shows_configmap_rewrites() -> None:
    (shown,) = report.plan_configmap_manifests(cluster(), SETTINGS, [configmap({"URL": "http://redis/"})])
    assert shown.workload == "configmap foo/settings"
    assert [(r.where, r.after, r.rules) for r in shown.rewrites] == [("key URL", f"http://{REDIS}/", ("url",))]
    assert shown.warnings == []
