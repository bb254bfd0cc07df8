"""The mirror controller: keeps the EndpointSlices of handed-over Services in step with their targets.

It runs ``plan_mirror`` on every Service, EndpointSlice or Namespace change the watch cache reports
(a pass within milliseconds, not the reconciler's interval: a pod that turns unready must leave the
old Service's slices within a second) and on a periodic resync, only while this replica holds the
reconciler's lease. It plans from the cache and writes only the difference, so a new leader, or a
restarted one, rebuilds the mirror from the cluster as it is.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from webhook.core import logs
from webhook.core.cluster import ClusterView
from webhook.core.mirror import MirrorNote, MirrorPlan, SliceAction, note_event, plan_mirror
from webhook.core.objects import JsonObject
from webhook.core.settings import Settings

WATCHED_KINDS = frozenset({"Service", "EndpointSlice", "Namespace"})
"""The changes a mirror pass depends on."""

LEADER_CHECK_SECONDS = 0.2
"""How often a waiting replica looks whether it became leader (it then passes at once)."""


@dataclass
class MirrorStats:
    """What ``/metrics`` shows of the mirror."""

    passes: int = 0
    writes: dict[str, int] = field(default_factory=dict)
    failures: int = 0
    mirrored: int = 0
    notes: dict[str, int] = field(default_factory=dict)
    """Handed-over Services per note kind ("target missing", ...) at the last pass."""


class Mirror:
    def __init__(
        self,
        view: ClusterView,
        settings: Settings,
        *,
        write: Callable[[SliceAction], None],
        record_event: Callable[[JsonObject], None],
        is_leader: Callable[[], bool],
        settle_seconds: float = 0.05,
    ) -> None:
        self.view = view
        self.settings = settings
        self.write = write
        self.record_event = record_event
        self.is_leader = is_leader
        self.settle_seconds = settle_seconds
        self.stats = MirrorStats()
        self.wake = threading.Event()
        self._leading = False
        self._told: set[tuple[str, str, str]] = set()
        """Notes already sent as Events by this leader (kind, namespace, name)."""

    def nudge(self, kind: str = "") -> None:
        if not kind or kind in WATCHED_KINDS:
            self.wake.set()

    def run(self, stop: threading.Event) -> None:
        passed = time.monotonic()
        while not stop.is_set():
            woken = self.wake.wait(timeout=LEADER_CHECK_SECONDS)
            if stop.is_set():
                return
            # A replica that just became leader heard the changes of its wait without acting on them.
            became_leader = not self._leading and self.is_leader()
            if not (woken or became_leader or time.monotonic() - passed >= self.settings.resync_seconds):
                continue
            stop.wait(self.settle_seconds)  # the changes of one rollout step share a pass
            self.wake.clear()
            passed = time.monotonic()
            try:
                self.sync()
            except Exception:  # retried on the next change or resync
                logging.getLogger(logs.LOGGER).exception("mirror pass failed")

    def sync(self) -> MirrorPlan | None:
        """One pass, if leader: the plan carried out."""
        self._leading = self.is_leader()
        if not self._leading:
            self._told.clear()  # a leader to come says it again
            return None
        plan = plan_mirror(self.view, self.settings)
        self.stats.passes += 1
        for action in plan.actions:
            try:
                self.write(action)
                self.stats.writes[action.verb] = self.stats.writes.get(action.verb, 0) + 1
                logs.event(
                    "slice_mirrored", verb=action.verb, slice=f"{action.namespace}/{action.name}", reason=action.reason
                )
            except Exception as error:
                self.stats.failures += 1
                self.wake.set()  # try again on the next pass
                logs.event(
                    "slice_mirror_failed",
                    level=logging.WARNING,
                    verb=action.verb,
                    slice=f"{action.namespace}/{action.name}",
                    error=str(error)[:200],
                )
        self._tell(plan.notes)
        self.stats.mirrored = plan.mirrored
        counts: dict[str, int] = {}
        for note in plan.notes:
            counts[note.kind] = counts.get(note.kind, 0) + 1
        self.stats.notes = counts
        return plan

    def _tell(self, notes: list[MirrorNote]) -> None:
        """A Warning Event for each note that is new since the last pass (a lasting one is said once)."""
        current: set[tuple[str, str, str]] = {(note.kind, note.namespace, note.name) for note in notes}
        for note in notes:
            key = (note.kind, note.namespace, note.name)
            if key in self._told:
                continue
            service = self.view.service(note.namespace, note.name)
            event = note_event(note, uid=service.uid if service else "", now=datetime.datetime.now(datetime.UTC))
            where = f"{note.namespace}/{note.name}"
            logs.event("handover_warning", level=logging.WARNING, service=where, note=note.message)
            try:
                self.record_event(event)
            except Exception as error:
                logs.event("event_failed", level=logging.WARNING, reason=event["reason"], error=str(error)[:200])
        self._told = current
