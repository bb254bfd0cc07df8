"""The reflector against recorded API server answers (tests/data: a real list and watch of Services)."""

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.memory import MemoryCluster
from webhook.core.fields import JsonObject
from webhook.kube.cache import Cache
from webhook.kube.watch import Backoff, Gone, Reflector

DATA = Path(__file__).parent / "data"
RECORDED_LIST = json.loads((DATA / "services-list.json").read_text())
RECORDED_EVENTS = [json.loads(line) for line in (DATA / "services-watch.jsonl").read_text().splitlines()]
EXPIRED = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"}}

Stream = list[JsonObject] | Exception


class Recorded:
    """A Source that answers from scripted pages and watch streams, and remembers how it was asked."""

    def __init__(self, pages: list[tuple[list[JsonObject], str, str]], streams: list[Stream]) -> None:
        self.pages = pages
        self.streams = streams
        self.lists: list[str] = []
        self.watches: list[str] = []
        self.selectors: list[str] = []

    def list_page(self, kind: str, *, limit: int, token: str, selector: str = "") -> tuple[list[JsonObject], str, str]:
        self.lists.append(token)
        self.selectors.append(selector)
        return self.pages.pop(0)

    def watch(
        self, kind: str, *, resource_version: str, timeout_seconds: int, selector: str = ""
    ) -> Iterator[JsonObject]:
        self.watches.append(resource_version)
        self.selectors.append(selector)
        stream = self.streams.pop(0)
        if isinstance(stream, Exception):
            raise stream
        yield from stream


def service(name: str, version: str) -> JsonObject:
    return {"kind": "Service", "metadata": {"name": name, "namespace": "foobar", "resourceVersion": version}}


def reflector(source: Recorded) -> tuple[Reflector, Cache]:
    cache = Cache(MemoryCluster(), kinds=["Service"])
    return Reflector("Service", source, cache, backoff=Backoff(initial=0, cap=0)), cache


def names(cache: Cache) -> list[str]:
    return sorted(f"{s.namespace}/{s.name}" for s in cache.services())


def test_recorded_list_and_watch_leave_the_cache_as_the_server_had_it() -> None:
    source = Recorded([(RECORDED_LIST["items"], RECORDED_LIST["resourceVersion"], "")], [RECORDED_EVENTS])
    ref, cache = reflector(source)
    ref.step()
    assert source.watches == [RECORDED_LIST["resourceVersion"]]
    assert names(cache) == ["default/kubernetes", "foobar/servicea"]
    assert cache.service("foobar", "servicea").ports[0].port == 81  # type: ignore[union-attr]


def test_bookmarks_move_the_resource_version_without_touching_the_cache() -> None:
    bookmark = {"type": "BOOKMARK", "object": {"kind": "Service", "metadata": {"resourceVersion": "900"}}}
    source = Recorded([([service("a", "10")], "10", "")], [[bookmark], []])
    ref, cache = reflector(source)
    ref.step()
    ref.step()
    assert source.watches == ["10", "900"]
    assert names(cache) == ["foobar/a"]


def test_a_closed_watch_resumes_from_the_last_version_seen_without_listing() -> None:
    source = Recorded([([], "10", "")], [[{"type": "ADDED", "object": service("a", "11")}], []])
    ref, _ = reflector(source)
    ref.step()
    ref.step()
    assert source.lists == [""]
    assert source.watches == ["10", "11"]


def test_expired_event_means_a_fresh_list() -> None:
    source = Recorded([([service("a", "10")], "10", ""), ([service("b", "50")], "50", "")], [[EXPIRED], []])
    ref, cache = reflector(source)
    with pytest.raises(Gone):
        ref.step()
    ref.resource_version = ""  # what run() does on Gone
    ref.step()
    assert names(cache) == ["foobar/b"]
    assert ref.relists == 2


def test_run_relists_on_410_and_retries_other_errors() -> None:
    stop = threading.Event()
    source = Recorded(
        [([service("a", "10")], "10", ""), ([service("b", "60")], "60", "")],
        [ConnectionResetError("reset"), [EXPIRED], [{"type": "ADDED", "object": service("c", "61")}]],
    )
    ref, cache = reflector(source)

    def last_stream(
        kind: str, *, resource_version: str, timeout_seconds: int, selector: str = ""
    ) -> Iterator[JsonObject]:
        stream = Recorded.watch(
            source, kind, resource_version=resource_version, timeout_seconds=timeout_seconds, selector=selector
        )
        yield from stream
        if not source.streams:
            stop.set()

    source.watch = last_stream  # type: ignore[method-assign]
    ref.run(stop)
    assert source.watches == ["10", "10", "60"]
    assert names(cache) == ["foobar/b", "foobar/c"]


def test_lists_are_read_page_by_page() -> None:
    source = Recorded([([service("a", "1")], "5", "next"), ([service("b", "2")], "5", "")], [[]])
    ref, cache = reflector(source)
    ref.step()
    assert source.lists == ["", "next"]
    assert names(cache) == ["foobar/a", "foobar/b"]


def test_backoff_doubles_up_to_its_cap_and_resets() -> None:
    backoff = Backoff(initial=1, cap=4)
    delays = [backoff.delay() for _ in range(4)]
    ceilings = [1, 2, 4, 4]
    assert all(ceiling / 2 <= delay <= ceiling for delay, ceiling in zip(delays, ceilings, strict=True))
    backoff.reset()
    assert backoff.delay() <= 1


def test_endpoints_are_listed_and_watched_through_the_mirrors_label_only() -> None:
    source = Recorded([([], "5", "")], [[]])
    Reflector("Endpoints", source, Cache(MemoryCluster(), kinds=["Endpoints"])).step()
    assert source.selectors == ["nsmigrate.io/proxy=true", "nsmigrate.io/proxy=true"]
