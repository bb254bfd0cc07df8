"""Reads that see every write made before they were asked for, shared by everyone who asked together.

A decision that must not miss a write made just before it (a caller applied, then at once its proxy
deleted) reads the API server, not the cache. When many such decisions come at once, each would
make the same reads: ``Batched`` lets every request for a key that arrives while a read of that key
is running wait for the next read, which begins after all of them asked. Each asker thus gets a
read that began after its own request (what freshness needs), and a burst of N askers costs two
reads, not N.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Collection, Hashable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Key(Generic[V]):
    running: bool = False
    waiting: Future[V] | None = None
    """The next read of the key: not begun yet, so whoever asks now can join it."""
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    """The context of the first asker of ``waiting``."""


class Batched(Generic[K, V]):
    """``submit(key)`` returns a future for a read of ``key`` that begins after the call.

    Reads run on ``pool``, never block a pool thread on another read, and run one at a time per key;
    each read runs in the context of the first asker of its batch (so that metrics count it once, as
    that admission's own)."""

    def __init__(self, read: Callable[[K], V], pool: Executor) -> None:
        self._read = read
        self._pool = pool
        self._lock = threading.Lock()
        self._keys: dict[K, _Key[V]] = {}
        self.reads = 0
        """Reads begun so far."""

    def submit(self, key: K) -> Future[V]:
        with self._lock:
            state = self._keys.setdefault(key, _Key())
            if state.waiting is not None:
                return state.waiting
            future: Future[V] = Future()
            if state.running:
                state.waiting, state.context = future, contextvars.copy_context()
            else:
                state.running = True
                self._start(key, future, contextvars.copy_context())
            return future

    def _start(self, key: K, future: Future[V], context: contextvars.Context) -> None:
        self.reads += 1
        self._pool.submit(context.run, self._run, key, future)

    def _run(self, key: K, future: Future[V]) -> None:
        try:
            future.set_result(self._read(key))
        except BaseException as error:  # handed to every asker, who raises it
            future.set_exception(error)
        finally:
            with self._lock:
                state = self._keys[key]
                following, state.waiting = state.waiting, None
                if following is None:
                    del self._keys[key]
                else:
                    self._start(key, following, state.context)


class Versions:
    """The resourceVersion each reflector has reached, and a wait for them to reach one.

    resourceVersions are compared as numbers, as the API server's own watch cache does with etcd's
    revisions; one that is not a number is never reached, so whoever waits on it reads live instead."""

    def __init__(self) -> None:
        self._reached: dict[str, int] = {}
        self._changed = threading.Condition()

    def advance(self, kind: str, version: str) -> None:
        """The reflector of ``kind`` has applied every event up to ``version`` (an event's or a bookmark's)."""
        number = _number(version)
        if number is None:
            return
        with self._changed:
            if number > self._reached.get(kind, -1):
                self._reached[kind] = number
                self._changed.notify_all()

    def wait(
        self, kinds: Collection[str], version: str, *, timeout: float, clock: Callable[[], float]
    ) -> frozenset[str]:
        """The kinds whose reflector has reached ``version``, waiting up to ``timeout`` for the others."""
        target = _number(version)
        if target is None:
            return frozenset()
        deadline = clock() + timeout
        with self._changed:
            while True:
                reached = frozenset(kind for kind in kinds if self._reached.get(kind, -1) >= target)
                left = deadline - clock()
                if len(reached) == len(kinds) or left <= 0:
                    return reached
                self._changed.wait(left)


def _number(version: str) -> int | None:
    return int(version) if version.isdigit() else None
