"""The mirror's plan: keeps the EndpointSlices of handed-over Services in step with their targets.

The leader loop runs it on every Service, EndpointSlice or Namespace change the watch cache reports
(a pass within milliseconds, not the reconciler's interval: a pod that turns unready must leave the
old Service's slices within a second) and on a periodic resync, only while this replica holds the
lease. It plans from the cache and writes only the difference, so a new leader, or a restarted one,
rebuilds the mirror from the cluster as it is.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from webhook.core import logs
from webhook.core.cluster import ClusterView
from webhook.core.fields import JsonObject
from webhook.core.mirror import MirrorAction, MirrorNote, note_event, plan_mirror
from webhook.core.settings import Settings

WATCHED_KINDS = frozenset({"Service", "EndpointSlice", "Namespace"})
"""The changes a mirror pass depends on."""


@dataclass
class MirrorStats:
    """What ``/metrics`` shows of the mirror."""

    passes: int = 0
    mirrored: int = 0
    notes: dict[str, int] = field(default_factory=dict)
    """Handed-over Services per note kind ("target missing", ...) at the last pass."""


class Mirror:
    """The mirror's plan for the leader loop: ``plan_mirror`` over the cache, each new note told once as a
    Warning Event, and what ``/metrics`` shows kept in ``stats``."""

    def __init__(self, view: ClusterView, settings: Settings, *, record_event: Callable[[JsonObject], None]) -> None:
        self.view = view
        self.settings = settings
        self.record_event = record_event
        self.stats = MirrorStats()
        self._told: set[tuple[str, str, str]] = set()
        """Notes already sent as Events by this leader (kind, namespace, name)."""

    def plan(self) -> list[MirrorAction]:
        plan = plan_mirror(self.view, self.settings)
        self.stats.passes += 1
        self._tell(plan.notes)
        self.stats.mirrored = plan.mirrored
        counts: dict[str, int] = {}
        for note in plan.notes:
            counts[note.kind] = counts.get(note.kind, 0) + 1
        self.stats.notes = counts
        return plan.actions

    def forget(self) -> None:
        """Another replica leads: a leader to come says every note again."""
        self._told.clear()

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
