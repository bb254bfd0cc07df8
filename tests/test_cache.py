import pytest

from tests.memory import MemoryCluster
from webhook.core.callers import callers_of, candidate_names
from webhook.core.fields import JsonObject
from webhook.dev import seed
from webhook.kube.cache import Cache, NotSynced


def synced(*objects: JsonObject) -> Cache:
    """A cache whose every kind has been listed, holding ``objects``."""
    cache = Cache(MemoryCluster())
    by_kind: dict[str, list[JsonObject]] = {kind: [] for kind in cache.kinds}
    for obj in objects:
        by_kind[obj["kind"]].append(obj)
    for kind, items in by_kind.items():
        cache.replace(kind, items)
    return cache


def caller(name: str, namespace: str, url: str) -> JsonObject:
    return seed.deployment(name, namespace, {"URL": url})


def test_reads_before_every_kind_is_listed_are_refused() -> None:
    cache = Cache(MemoryCluster())
    cache.replace("Service", [])
    assert not cache.synced
    with pytest.raises(NotSynced, match="ConfigMap"):
        cache.services("foobar")


def test_list_then_events_keep_the_services_index() -> None:
    cache = synced(seed.service("servicea", "foobar", "appa"))
    cache.apply("Service", "ADDED", seed.service("serviceb", "foobar", "appb"))
    cache.apply("Service", "MODIFIED", seed.service("servicea", "foobar", "appa", port=81))
    cache.apply("Service", "DELETED", seed.service("serviceb", "foobar", "appb"))
    assert [(s.name, s.ports[0].port) for s in cache.services("foobar")] == [("servicea", 81)]
    assert cache.service("foobar", "serviceb") is None


def test_relist_drops_what_the_list_no_longer_has() -> None:
    cache = synced(seed.service("servicea", "foobar", "appa"), caller("appc", "foobar", "http://servicea/"))
    cache.replace("Service", [seed.service("serviceb", "foobar", "appb")])
    cache.replace("Deployment", [])
    assert [s.name for s in cache.services()] == ["serviceb"]
    assert cache.referring(frozenset({"servicea"})) == ([], [])


def test_host_index_follows_updates_of_a_workload() -> None:
    cache = synced(caller("appc", "foobar", "http://servicea/"))
    assert [w.name for w in cache.referring(frozenset({"servicea"}))[0]] == ["appc"]
    cache.apply("Deployment", "MODIFIED", caller("appc", "foobar", "http://servicea.foo.svc.cluster.local/"))
    assert cache.referring(frozenset({"servicea"})) == ([], [])
    assert [w.name for w in cache.referring(frozenset({"servicea.foo.svc.cluster.local"}))[0]] == ["appc"]


def test_index_entries_are_removed_with_their_last_member() -> None:
    cache = synced(caller("appc", "foobar", "http://servicea/"))
    cache.apply("Deployment", "DELETED", caller("appc", "foobar", "http://servicea/"))
    assert cache._workloads_by_host == {}
    assert cache._workloads_by_namespace == {}


def test_configmap_consumers_come_with_a_referring_configmap() -> None:
    settings = {
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "foobar"},
        "data": {"A": "servicea:80"},
    }
    ops = seed.deployment("ops", "foobar", {})
    ops["spec"]["template"]["spec"]["containers"][0]["envFrom"] = [{"configMapRef": {"name": "settings"}}]
    cache = synced(settings, ops, caller("bystander", "foobar", "http://serviceb/"))
    workloads, configmaps = cache.referring(candidate_names("servicea", "foobar", "cluster.local"))
    assert [w.name for w in workloads] == ["ops"]
    assert [c.name for c in configmaps] == ["settings"]


def test_callers_from_the_cache_match_callers_from_a_full_scan() -> None:
    objects = [
        caller("appc", "foobar", "http://servicea/"),
        caller("far", "bar", "servicea.foobar:80"),
        caller("near-miss", "bar", "http://servicea/"),
        caller("other", "foobar", "http://serviceb/"),
    ]
    cache, memory = synced(*objects), MemoryCluster.of(*objects)
    found = callers_of("servicea", "foobar", view=cache, cluster_domain="cluster.local")
    assert found == callers_of("servicea", "foobar", view=memory, cluster_domain="cluster.local")
    assert [c.describe() for c in found] == ["deployment bar/far (env URL)", "deployment foobar/appc (env URL)"]


def test_every_workload_kind_is_kept_under_its_own_key() -> None:
    statefulset = {**caller("same", "foobar", "http://servicea/"), "kind": "StatefulSet"}
    cache = synced(caller("same", "foobar", "http://servicea/"), statefulset)
    assert sorted(w.kind for w in cache.workloads("foobar")) == ["Deployment", "StatefulSet"]
    cache.apply("StatefulSet", "DELETED", statefulset)
    assert [w.kind for w in cache.workloads("foobar")] == ["Deployment"]


def test_listeners_hear_of_every_change() -> None:
    cache = synced()
    heard: list[str] = []
    cache.on_change(heard.append)
    cache.apply("Service", "ADDED", seed.service("servicea", "foobar", "appa"))
    cache.replace("ConfigMap", [])
    assert heard == ["Service", "ConfigMap"]
