"""The leader loops of a webhook process: the reconciler (proxies and handovers) and the mirror
(EndpointSlices of handed-over Services), each a plan from the cache and a writer, plugged into
``LeaderLoop``."""

from __future__ import annotations

import time
from collections.abc import Callable

from webhook.core.cluster import ClusterView
from webhook.core.fields import JsonObject
from webhook.core.mirror import MirrorAction
from webhook.core.readiness import PolicyAction
from webhook.core.reconcile import Action, Orphans, plan_reconcile
from webhook.core.settings import Settings
from webhook.kube.mirror import WATCHED_KINDS, Mirror
from webhook.kube.readiness import Readiness
from webhook.runtime.loop import LeaderLoop


def reconciler(
    view: ClusterView,
    settings: Settings,
    *,
    write: Callable[[Action], None],
    is_leader: Callable[[], bool],
    clock: Callable[[], float] = time.monotonic,
    on_pass: Callable[[], object] = lambda: None,
) -> LeaderLoop[Action]:
    """``plan_reconcile`` on every change and resync; orphans are remembered between passes."""
    orphans = Orphans()
    return LeaderLoop(
        "reconciler",
        plan=lambda: plan_reconcile(view, settings, now=clock(), orphans=orphans),
        write=write,
        is_leader=is_leader,
        # Orphans are looked at twice within their grace period.
        resync_seconds=min(settings.resync_seconds, settings.orphan_grace_seconds / 2 or 1),
        # Changes arriving during a pass share the next one: admission threads keep the CPU they need.
        pause_seconds=settings.reconcile_interval_seconds,
        clock=clock,
        on_pass=lambda _: on_pass(),
        logged=("proxy_reconciled", "proxy_reconcile_failed", "proxy"),
    )


def mirror(
    view: ClusterView,
    settings: Settings,
    *,
    write: Callable[[MirrorAction], None],
    record_event: Callable[[JsonObject], None],
    is_leader: Callable[[], bool],
    settle_seconds: float = 0.05,
) -> tuple[LeaderLoop[MirrorAction], Mirror]:
    """The mirror's loop (a pass within milliseconds of a change: an unready pod must leave the old
    Service's slices within a second) and its plan, whose ``stats`` the metrics read."""
    planner = Mirror(view, settings, record_event=record_event)
    loop = LeaderLoop(
        "mirror",
        plan=planner.plan,
        write=write,
        is_leader=is_leader,
        resync_seconds=settings.resync_seconds,
        watched=WATCHED_KINDS,
        settle_seconds=settle_seconds,
        on_follow=planner.forget,
        logged=("slice_mirrored", "slice_mirror_failed", "slice"),
    )
    return loop, planner


def readiness(
    view: ClusterView,
    settings: Settings,
    *,
    write: Callable[[PolicyAction], None],
    record_event: Callable[[JsonObject], None],
    is_leader: Callable[[], bool],
) -> tuple[LeaderLoop[PolicyAction], Readiness]:
    """The readiness checks' loop (findings told as Events, ``nsmigrate-callers`` policies written) and
    its plan, whose ``findings`` the metrics read. Paced like the reconciler: it reads every migrating
    namespace."""
    planner = Readiness(view, settings, record_event=record_event)
    loop = LeaderLoop(
        "readiness",
        plan=planner.plan,
        write=write,
        is_leader=is_leader,
        resync_seconds=settings.resync_seconds,
        pause_seconds=settings.reconcile_interval_seconds,
        on_follow=planner.forget,
        logged=("callers_policy_written", "callers_policy_failed", "policy"),
    )
    return loop, planner
