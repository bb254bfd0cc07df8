"""List+watch: keeping the cache in step with the API server, one reflector thread per kind.

A reflector lists page by page, hands the whole list to the cache, then watches from the list's
resourceVersion with bookmarks. A closed watch resumes from the last resourceVersion seen; "410 Gone"
(that version has been compacted away) means a fresh list; any other error is retried with capped
exponential backoff. The official client has no informer: this is that, kept small.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from webhook.core import logs
from webhook.core.fields import JsonObject, dig
from webhook.kube.cache import SELECTORS, Cache


class Gone(Exception):
    """The resourceVersion is too old (HTTP 410): the only way on is a fresh list."""


class Source(Protocol):
    """What a reflector needs from the API server."""

    def list_page(self, kind: str, *, limit: int, token: str, selector: str = "") -> tuple[list[JsonObject], str, str]:
        """One page of the objects matching the label ``selector``: (items, resourceVersion of the list,
        continue token or "")."""
        ...

    def watch(
        self, kind: str, *, resource_version: str, timeout_seconds: int, selector: str = ""
    ) -> Iterator[JsonObject]:
        """Watch events ({"type", "object"}) from ``resource_version`` on; raises Gone on 410. An object
        that stops matching ``selector`` comes as DELETED."""
        ...


@dataclass
class Backoff:
    """Capped exponential backoff with jitter, reset after a healthy watch."""

    initial: float = 0.2
    cap: float = 30.0
    _next: float = 0.0

    def delay(self) -> float:
        self._next = min(self.cap, (self._next * 2) or self.initial)
        return self._next * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography

    def reset(self) -> None:
        self._next = 0.0


class Reflector:
    def __init__(
        self,
        kind: str,
        source: Source,
        cache: Cache,
        *,
        page_size: int = 500,
        watch_seconds: int = 300,
        backoff: Backoff | None = None,
    ) -> None:
        self.kind = kind
        self.source = source
        self.cache = cache
        self.page_size = page_size
        self.watch_seconds = watch_seconds
        self.backoff = backoff or Backoff()
        self.resource_version = ""
        self.relists = 0
        self.selector = SELECTORS.get(kind, "")

    def run(self, stop: threading.Event) -> None:
        """List and watch until ``stop`` is set."""
        while not stop.is_set():
            try:
                self.step(stop)
                self.backoff.reset()
            except Gone:
                logs.event("watch_expired", kind=self.kind, resourceVersion=self.resource_version)
                self.resource_version = ""
            except Exception as error:
                logs.event("watch_failed", level=logging.WARNING, kind=self.kind, error=str(error)[:200])
                stop.wait(self.backoff.delay())

    def step(self, stop: threading.Event | None = None) -> None:
        """List if there is no resourceVersion to resume from, then watch until the stream ends."""
        if not self.resource_version:
            self.relist()
        for event in self.source.watch(
            self.kind,
            resource_version=self.resource_version,
            timeout_seconds=self.watch_seconds,
            selector=self.selector,
        ):
            self.handle(event)
            if stop is not None and stop.is_set():
                return

    def relist(self) -> None:
        versions: list[str] = []

        def pages() -> Iterator[JsonObject]:
            token = ""
            while True:
                page, version, token = self.source.list_page(
                    self.kind, limit=self.page_size, token=token, selector=self.selector
                )
                versions.append(version)
                yield from page
                if not token:
                    return

        self.cache.replace(self.kind, pages())  # projected page by page: the full list is never held
        self.resource_version = versions[-1]
        self.cache.versions.advance(self.kind, self.resource_version)
        self.relists += 1

    def handle(self, event: JsonObject) -> None:
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise Gone(str(obj.get("message", "")))
            raise RuntimeError(f"watch error: {obj.get('message', obj)}")
        version = str(dig(obj, "metadata").get("resourceVersion", ""))
        if kind in ("ADDED", "MODIFIED", "DELETED"):
            self.cache.apply(self.kind, str(kind), obj)
        if version:
            self.resource_version = version  # BOOKMARK events carry only this
            self.cache.versions.advance(self.kind, version)


def start(cache: Cache, source: Source, stop: threading.Event, **options: int) -> list[Reflector]:
    """One daemon thread per kind of the cache."""
    reflectors = [Reflector(kind, source, cache, **options) for kind in sorted(cache.kinds)]  # type: ignore[arg-type]
    for reflector in reflectors:
        threading.Thread(target=reflector.run, args=(stop,), name=f"watch-{reflector.kind}", daemon=True).start()
    return reflectors


def snapshot(cache: Cache, source: Source) -> Cache:
    """Fill ``cache`` with one list of every kind, no watch: a consistent-enough picture for commands."""
    for kind in sorted(cache.kinds):
        Reflector(kind, source, cache).relist()
    return cache
