"""The one leader loop: wake on a change or a resync, pass only while this replica leads, write what
the plan asks and log each write.

The reconciler, the mirror and the readiness checks are plan-and-write callbacks plugged into it; the
loop alone decides when they run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from webhook.core import logs


class Write(Protocol):
    """What the loop logs of an action it carries out."""

    @property
    def verb(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def reason(self) -> str: ...


A = TypeVar("A", bound=Write)

LEADER_CHECK_SECONDS = 0.2
"""How often a waiting replica looks whether it became leader (it then passes at once)."""


class LeaderLoop(Generic[A]):
    """Runs ``plan`` then ``write`` for each action it returns: on every change heard (``nudge``), on
    becoming leader, and every ``resync_seconds``; only while ``is_leader()`` says so."""

    def __init__(
        self,
        name: str,
        *,
        plan: Callable[[], Sequence[A]],
        write: Callable[[A], None],
        is_leader: Callable[[], bool],
        resync_seconds: float,
        watched: frozenset[str] | None = None,
        settle_seconds: float = 0.0,
        pause_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        on_pass: Callable[[Sequence[A]], object] = lambda actions: None,
        on_follow: Callable[[], object] = lambda: None,
        logged: tuple[str, str, str] = ("written", "write_failed", "object"),
    ) -> None:
        self.name = name
        self.plan = plan
        self.write = write
        self.is_leader = is_leader
        self.resync_seconds = resync_seconds
        self.watched = watched
        """The kinds whose changes wake it (None: every kind)."""
        self.settle_seconds = settle_seconds
        """Waited after waking, so that the changes of one rollout step share a pass."""
        self.pause_seconds = pause_seconds
        """Waited after a pass: a busy cluster gets at most one pass per interval."""
        self.clock = clock
        self.on_pass = on_pass
        """Called after each pass made as leader (metrics; tests wait on a pass counter, not the clock)."""
        self.on_follow = on_follow
        """Called on a pass skipped because another replica leads (forget what this one said)."""
        self.logged = logged
        """Log event of a write, of a failed write, and the key naming the object written."""
        self.wake = threading.Event()
        self._leading = False

    def nudge(self, kind: str = "") -> None:
        """Something changed: pass soon (changes arriving together share one pass)."""
        if not kind or self.watched is None or kind in self.watched:
            self.wake.set()

    def run(self, stop: threading.Event) -> None:
        passed = self.clock()
        while not stop.is_set():
            woken = self.wake.wait(timeout=min(self.resync_seconds, LEADER_CHECK_SECONDS))
            if stop.is_set():
                return
            # A replica that just became leader heard the changes of its wait without acting on them:
            # it passes at once (a handover must not wait for the next resync).
            became_leader = not self._leading and self.is_leader()
            if not (woken or became_leader or self.clock() - passed >= self.resync_seconds):
                continue
            if self.settle_seconds:
                stop.wait(self.settle_seconds)
            self.wake.clear()
            passed = self.clock()
            try:
                self.step()
            except Exception:  # a failed pass is retried on the next change or resync
                logging.getLogger(logs.LOGGER).exception("%s pass failed", self.name)
            if self.pause_seconds:
                stop.wait(self.pause_seconds)

    def step(self) -> list[A] | None:
        """One pass, if leader: the actions planned (each written, or logged as failed); else None."""
        self._leading = self.is_leader()
        if not self._leading:
            self.on_follow()
            return None
        actions = list(self.plan())
        done, failed, key = self.logged
        for action in actions:
            fields: dict[str, Any] = {"verb": action.verb, key: f"{action.namespace}/{action.name}"}
            try:
                self.write(action)
                logs.event(done, reason=action.reason, **fields)
            except Exception as error:
                self.wake.set()  # try again on the next pass
                logs.event(failed, level=logging.WARNING, error=str(error)[:200], **fields)
        self.on_pass(actions)
        return actions
