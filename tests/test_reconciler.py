import threading

from tests.memory import MemoryCluster
from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.core.objects import Service, ServicePort
from webhook.core.proxies import build_proxy
from webhook.core.reconcile import Action, Orphans, plan_reconcile
from webhook.core.settings import Settings
from webhook.core.waiting import poll_until
from webhook.dev import seed
from webhook.runtime import controllers

SETTINGS = Settings(orphan_grace_seconds=60)


def proxy_for(target: str = "foo/servicea", port: int = 80) -> JsonObject:
    namespace, name = target.split("/")
    manifest = build_proxy(
        Service(namespace, name, ports=(ServicePort(port, name="http", target_port=8080),)),
        old_namespace="foobar",
        cluster_domain="cluster.local",
    )
    manifest["metadata"]["uid"] = "uid-1"
    return manifest


def moved(*extra: JsonObject) -> MemoryCluster:
    """appa already runs in foo, foobar/servicea is retired, appc in foobar still calls it."""
    old = [m for m in seed.old_namespace("foobar") if m["metadata"].get("name") not in ("appa", "servicea")]
    return MemoryCluster.of(*old, seed.new_namespace("foo"), seed.deployment("appa", "foo", {}), *extra)


def plan(cluster: MemoryCluster, *, now: float = 0.0, orphans: Orphans | None = None) -> list[Action]:
    return plan_reconcile(cluster, SETTINGS, now=now, orphans=orphans or Orphans())


def test_service_created_after_its_workload_gets_its_proxy() -> None:
    (action,) = plan(moved(seed.service("servicea", "foo", "appa")))
    assert (action.verb, action.namespace, action.name) == ("create", "foobar", "servicea")
    assert action.body["spec"]["externalName"] == "servicea.foo.svc.cluster.local"


def test_nothing_to_do_once_the_proxy_exists() -> None:
    assert plan(moved(seed.service("servicea", "foo", "appa"), proxy_for())) == []


def test_service_nobody_calls_by_its_old_name_gets_no_proxy() -> None:
    assert plan(moved(seed.service("appa-metrics", "foo", "appa"))) == []


def test_service_selecting_no_workload_is_not_a_moved_service() -> None:
    assert plan(moved(seed.service("servicea", "foo", "nobody"))) == []


def test_no_consent_no_proxy() -> None:
    cluster = moved(seed.service("servicea", "foo", "appa"))
    cluster.add(seed.namespace("foobar"))
    assert plan(cluster) == []


def test_no_proxy_is_planned_in_a_terminating_old_namespace() -> None:
    """The API server refuses new objects there: planning one would fail on every pass until it is gone."""
    cluster = moved(seed.service("servicea", "foo", "appa"))
    terminating = seed.namespace("foobar", {labels.SOURCE: "true"})
    terminating["metadata"]["deletionTimestamp"] = "2026-12-05T12:00:00Z"
    cluster.add(terminating)
    assert plan(cluster) == []


def test_proxy_ports_follow_the_target() -> None:
    cluster = moved(seed.service("servicea", "foo", "appa", port=8080), proxy_for(port=80))
    (action,) = plan(cluster)
    assert (action.verb, action.name) == ("update", "servicea")
    assert action.body == {"spec": {"ports": [{"port": 8080, "protocol": "TCP", "name": "http", "targetPort": 8080}]}}


def test_orphan_proxy_is_removed_only_after_the_grace_period() -> None:
    cluster = MemoryCluster.of(  # foo/servicea is gone, and appc no longer calls foobar/servicea
        seed.namespace("foobar", {labels.SOURCE: "true"}),
        seed.new_namespace("foo"),
        seed.deployment("appc", "foobar", {"SERVICEA_URL": "http://servicea.foo.svc.cluster.local/"}),
        proxy_for(),
    )
    orphans = Orphans()
    assert plan(cluster, now=100.0, orphans=orphans) == []
    assert plan(cluster, now=159.0, orphans=orphans) == []
    (action,) = plan(cluster, now=160.0, orphans=orphans)
    assert (action.verb, action.name, action.body) == ("delete", "servicea", {"uid": "uid-1"})


def test_orphan_with_callers_is_kept_and_its_clock_restarts() -> None:
    cluster = moved(proxy_for())
    orphans = Orphans(since={"foobar/servicea": 0.0})
    assert plan(cluster, now=1000.0, orphans=orphans) == []
    assert orphans.since == {}


def test_proxy_whose_target_returns_is_no_longer_an_orphan() -> None:
    cluster = moved(proxy_for(), seed.service("servicea", "foo", "appa"))
    orphans = Orphans(since={"foobar/servicea": 0.0})
    assert plan(cluster, now=1000.0, orphans=orphans) == []
    assert orphans.since == {}


def test_reconciler_acts_only_as_leader_and_writes_each_action() -> None:
    cluster = moved(seed.service("servicea", "foo", "appa"))
    written: list[Action] = []
    leader = False
    reconciler = controllers.reconciler(cluster, SETTINGS, write=written.append, is_leader=lambda: leader)
    assert reconciler.step() is None
    leader = True
    actions = reconciler.step()
    assert written == actions
    assert [a.verb for a in actions] == ["create"]


def test_a_failed_write_does_not_stop_the_others() -> None:
    cluster = moved(seed.service("servicea", "foo", "appa"), seed.service("serviceb2", "foo", "appa"))
    cluster.add(seed.deployment("caller", "foobar", {"B2": "http://serviceb2/"}))
    attempts: list[str] = []

    def write(action: Action) -> None:
        attempts.append(action.name)
        if action.name == "servicea":
            raise ConnectionError("boom")

    controllers.reconciler(cluster, SETTINGS, write=write, is_leader=lambda: True).step()
    assert sorted(attempts) == ["servicea", "serviceb2"]


def test_proxy_annotation_names_its_target() -> None:
    assert proxy_for()["metadata"]["annotations"] == {labels.PROXY_FOR: "foo/servicea"}


def handed_over_service(**spec: object) -> JsonObject:
    """foobar/servicea as a handover leaves it: its own spec without selector, marked as a proxy."""
    return {
        "kind": "Service",
        "metadata": {
            "name": "servicea", "namespace": "foobar", "uid": "uid-2",
            "labels": {labels.PROXY: "true", labels.MANAGED_BY: "Helm"},
            "annotations": {labels.PROXY_FOR: "foo/servicea", labels.ORIGINAL_SPEC: "{}"},
        },
        "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.7", "ports": [{"port": 80, "nodePort": 30080}], **spec},
    }  # fmt: skip


def test_a_handed_over_service_whose_target_is_gone_is_never_deleted() -> None:
    cluster = MemoryCluster.of(seed.namespace("foobar", {labels.SOURCE: "true"}), handed_over_service())
    orphans = Orphans()
    assert plan(cluster, now=0.0, orphans=orphans) == []
    assert plan(cluster, now=10_000.0, orphans=orphans) == []


def test_a_mirrored_service_keeps_its_own_ports() -> None:
    cluster = moved(handed_over_service(), seed.service("servicea", "foo", "appa", port=8080))
    assert plan(cluster) == []


def test_proxies_of_earlier_versions_get_the_proxy_label() -> None:
    legacy = proxy_for()
    del legacy["metadata"]["labels"][labels.PROXY]
    (action,) = plan(moved(legacy, seed.service("servicea", "foo", "appa")))
    assert (action.verb, action.body) == ("update", {"metadata": {"labels": {labels.PROXY: "true"}}})


def test_a_replica_that_becomes_leader_reconciles_without_waiting_for_a_change() -> None:
    cluster = moved(seed.service("servicea", "foo", "appa"))
    written: list[Action] = []
    leader = threading.Event()
    asked = threading.Semaphore(0)

    def is_leader() -> bool:
        asked.release()
        return leader.is_set()

    settings = Settings(orphan_grace_seconds=3600, resync_seconds=3600, reconcile_interval_seconds=0)
    reconciler = controllers.reconciler(cluster, settings, write=written.append, is_leader=is_leader)
    stop = threading.Event()
    runner = threading.Thread(target=reconciler.run, args=(stop,))
    runner.start()
    try:
        reconciler.nudge()  # heard while not leading: its pass writes nothing
        for _ in range(2):  # the wake-up's question and the pass's own
            assert asked.acquire(timeout=5)
        assert written == []
        leader.set()  # and no change comes after this
        poll_until(lambda: written, timeout=5, interval=0.01, what="the new leader's pass")
    finally:
        stop.set()
        reconciler.nudge()
        runner.join()
    assert [a.verb for a in written] == ["create"]
