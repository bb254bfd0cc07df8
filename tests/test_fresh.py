"""Fresh reads: batched live reads, the reflectors' versions, and the cache's barrier."""

import threading
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tests.memory import MemoryCluster
from webhook.core.callers import CALLER_KINDS
from webhook.core.objects import ConfigMap, Workload
from webhook.dev import seed
from webhook.kube.cache import Cache
from webhook.kube.fresh import Batched, Versions


def test_a_burst_of_askers_shares_two_reads_each_begun_after_its_ask() -> None:
    """The first asker's read starts at once; everyone who asks while it runs waits for the next."""
    started = threading.Event()
    release = threading.Event()
    begun: list[int] = []
    asked: list[int] = []

    def read(key: str) -> int:
        begun.append(len(asked))  # how many had asked when this read began
        started.set()
        release.wait(5)
        return len(begun)

    with ThreadPoolExecutor(max_workers=4) as pool:
        batched: Batched[str, int] = Batched(read, pool)
        asked.append(1)
        first = batched.submit("ns")
        assert started.wait(5)
        later = []
        for _ in range(30):
            asked.append(1)
            later.append(batched.submit("ns"))
        release.set()
        assert first.result(5) == 1
        assert {future.result(5) for future in later} == {2}
    assert batched.reads == 2
    assert begun == [1, 31]  # the second read began after all 31 had asked


def test_reads_of_different_keys_do_not_wait_for_each_other() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        batched: Batched[str, str] = Batched(str.upper, pool)
        assert [batched.submit(key).result(5) for key in ("a", "b", "a")] == ["A", "B", "A"]
    assert batched.reads == 3


def test_a_failed_read_reaches_every_asker_and_the_next_read_starts_clean() -> None:
    calls: list[str] = []

    def read(key: str) -> str:
        calls.append(key)
        if len(calls) == 1:
            raise ConnectionError("refused")
        return key

    with ThreadPoolExecutor(max_workers=2) as pool:
        batched: Batched[str, str] = Batched(read, pool)
        failed = batched.submit("ns")
        assert isinstance(failed.exception(5), ConnectionError)
        assert batched.submit("ns").result(5) == "ns"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_versions_are_reached_by_events_and_bookmarks_never_backwards() -> None:
    versions = Versions()
    versions.advance("Deployment", "120")
    versions.advance("Deployment", "90")  # an older version never undoes a newer one
    versions.advance("ConfigMap", "100")
    reached = versions.wait(["Deployment", "ConfigMap", "Pod"], "110", timeout=0, clock=Clock())
    assert reached == {"Deployment"}


def test_a_version_that_is_not_a_number_is_never_reached() -> None:
    versions = Versions()
    versions.advance("Deployment", "abc")
    versions.advance("Pod", "5")
    assert versions.wait(["Pod"], "x1", timeout=0, clock=Clock()) == frozenset()


def test_a_wait_ends_as_soon_as_the_last_kind_arrives() -> None:
    versions = Versions()
    done: list[frozenset[str]] = []
    waiter = threading.Thread(target=lambda: done.append(versions.wait(["Pod"], "7", timeout=30, clock=Clock())))
    waiter.start()
    versions.advance("Pod", "7")
    waiter.join(5)
    assert done == [frozenset({"Pod"})]


@dataclass
class Store(MemoryCluster):
    """The API server: a version, and the kinds each fresh read asked it for."""

    version: str = "50"
    asked: list[list[str]] = field(default_factory=list)

    def current_version(self) -> str:
        return self.version

    def contents(self, namespace: str, kinds: Collection[str]) -> tuple[list[Workload], list[ConfigMap]]:
        self.asked.append(sorted(kinds))
        return super().contents(namespace, kinds)


def test_the_barrier_takes_current_kinds_from_the_cache_and_reads_the_others() -> None:
    """The cache holds an old caller Deployment; the store also holds a ConfigMap and a Pod the cache has not
    seen. Deployments have reached the store's version (the cache is right), Pods and ConfigMaps have not."""
    stored_deployment = seed.deployment("appc", "foobar", {"URL": "http://servicea/"})
    template = stored_deployment["spec"]["template"]
    pod = {"kind": "Pod", "metadata": {**template["metadata"], "name": "bare", "namespace": "foobar"}}
    configmap = {"kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "foobar"}, "data": {"URL": "x"}}
    store = Store.of(stored_deployment, configmap, {**pod, "spec": template["spec"]})
    cache = Cache(store)
    for kind in cache.kinds:
        cache.replace(kind, [stored_deployment] if kind == "Deployment" else [])
    cache.versions.advance("Deployment", "50")
    for kind in CALLER_KINDS:
        if kind not in ("Deployment", "Pod", "ConfigMap"):
            cache.versions.advance(kind, "51")
    workloads, configmaps = cache.fresh_contents("foobar")
    assert store.asked == [["ConfigMap", "Pod"]]
    assert sorted((w.kind, w.name) for w in workloads) == [("Deployment", "appc"), ("Pod", "bare")]
    assert [c.name for c in configmaps] == ["settings"]
    assert cache.fresh_kinds == {"cache": len(CALLER_KINDS) - 2, "live": 2}
