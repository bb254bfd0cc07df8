"""The reconciler loop: runs ``plan_reconcile`` on watch events and on a periodic resync while this
replica holds the lease, and carries out its actions with idempotent writes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from webhook.core import logs
from webhook.core.cluster import ClusterView
from webhook.core.objects import JsonObject, Service
from webhook.core.reconcile import Action, Orphans, plan_reconcile
from webhook.core.settings import Settings


class ServiceWriter(Protocol):
    def create_service(self, manifest: JsonObject, *, timeout: float) -> None: ...

    def hand_over(self, namespace: str, name: str, *, target: Service) -> JsonObject: ...

    def patch_service(self, namespace: str, name: str, patch: JsonObject) -> None: ...

    def delete_service(self, namespace: str, name: str, *, uid: str) -> None: ...


Writer = Callable[[Action], None]

LEADER_CHECK_SECONDS = 1.0
"""How often a waiting replica looks whether it became leader (it then passes at once)."""


def writer(services: ServiceWriter, *, timeout: float, cluster_domain: str) -> Writer:
    """Carry out actions through ``services``; each write is idempotent (exists / gone are fine)."""

    def write(action: Action) -> None:
        if action.verb == "create":
            services.create_service(action.body, timeout=timeout)
        elif action.verb == "handover" and action.target is not None:
            services.hand_over(action.namespace, action.name, target=action.target)
        elif action.verb == "update":
            services.patch_service(action.namespace, action.name, action.body)
        else:
            services.delete_service(action.namespace, action.name, uid=str(action.body.get("uid", "")))

    return write


class Reconciler:
    """Runs ``plan_reconcile`` on every change the cache reports and every ``resync_seconds``,
    only while ``is_leader()`` says so, writing through ``write``."""

    def __init__(
        self,
        view: ClusterView,
        settings: Settings,
        *,
        write: Writer,
        is_leader: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
        on_pass: Callable[[], object] = lambda: None,
    ) -> None:
        self.view = view
        self.on_pass = on_pass
        """Called after each pass made as leader (the passes metric: tests wait on it, not on the clock)."""
        self.settings = settings
        self.write = write
        self.is_leader = is_leader
        self.clock = clock
        self.orphans = Orphans()
        self.wake = threading.Event()

    def nudge(self, _kind: str = "") -> None:
        """Something changed: reconcile soon (changes arriving together share one pass)."""
        self.wake.set()

    def run(self, stop: threading.Event) -> None:
        every = min(self.settings.resync_seconds, self.settings.orphan_grace_seconds / 2 or 1)
        passed = self.clock()
        leading = False
        while not stop.is_set():
            woken = self.wake.wait(timeout=min(every, LEADER_CHECK_SECONDS))
            if stop.is_set():
                return
            # A replica that just became leader heard the changes of its wait without acting on them:
            # it passes at once (a handover must not wait for the next resync).
            became_leader = not leading and self.is_leader()
            leading = self.is_leader()
            if not (woken or became_leader or self.clock() - passed >= every):
                continue
            self.wake.clear()
            passed = self.clock()
            try:
                self.reconcile()
            except Exception:  # a failed pass is retried on the next change or resync
                logging.getLogger(logs.LOGGER).exception("reconcile pass failed")
            # Changes arriving meanwhile share the next pass: a busy cluster gets at most one pass per
            # interval, and admission threads keep the CPU they need.
            stop.wait(self.settings.reconcile_interval_seconds)

    def reconcile(self) -> list[Action]:
        """One pass, if leader and synced: the actions taken."""
        if not self.is_leader():
            return []
        actions = plan_reconcile(self.view, self.settings, now=self.clock(), orphans=self.orphans)
        for action in actions:
            try:
                self.write(action)
                logs.event(
                    "proxy_reconciled",
                    verb=action.verb,
                    proxy=f"{action.namespace}/{action.name}",
                    reason=action.reason,
                )
            except Exception as error:
                logs.event(
                    "proxy_reconcile_failed",
                    level=logging.WARNING,
                    verb=action.verb,
                    proxy=f"{action.namespace}/{action.name}",
                    error=str(error)[:200],
                )
        self.on_pass()
        return actions
