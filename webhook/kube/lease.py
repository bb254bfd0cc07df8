"""Leader election over a coordination.k8s.io/v1 Lease: one replica reconciles at a time.

Every replica tries every ``lease_seconds / 3``: it takes the Lease when it is free, expired or
already its own, with the Lease's resourceVersion as precondition, so two replicas can never both
win the same round. A replica that stops hands the Lease back.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable
from typing import Any

from webhook.core import logs
from webhook.core.fields import JsonObject
from webhook.core.timestamps import parse, rfc3339
from webhook.kube.client import ApiError, Kube, path_of


def now_utc() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def may_take(spec: JsonObject, *, identity: str, now: datetime.datetime) -> bool:
    """Whether ``identity`` may hold a Lease with this spec at ``now``."""
    holder = spec.get("holderIdentity") or ""
    if holder in ("", identity):
        return True
    renewed = parse(spec.get("renewTime") or spec.get("acquireTime"))
    duration = float(spec.get("leaseDurationSeconds") or 0)
    return renewed is None or now >= renewed + datetime.timedelta(seconds=duration)


class LeaderElector:
    def __init__(
        self,
        kube: Kube,
        *,
        namespace: str,
        name: str,
        identity: str,
        lease_seconds: float,
        clock: Callable[[], datetime.datetime] = now_utc,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.leader = False

    @property
    def path(self) -> str:
        return path_of("Lease", self.namespace, self.name)

    def attempt(self) -> bool:
        """Take or renew the Lease; whether this replica leads now."""
        was = self.leader
        try:
            self.leader = self._take()
        except ApiError as error:
            self.leader = False
            if error.status not in (409, 422):
                logs.event("lease_error", level=logging.WARNING, lease=self.name, error=str(error)[:200])
        except Exception as error:  # an unreachable API server: lead no more, and keep trying
            # Left uncaught, this ended the elector's thread with ``leader`` still True: a replica that
            # went on reconciling beside the next leader (seen after a kube-apiserver restart).
            self.leader = False
            logs.event("lease_error", level=logging.WARNING, lease=self.name, error=repr(error)[:200])
        if self.leader != was:
            logs.event(
                "leadership_changed", lease=f"{self.namespace}/{self.name}", identity=self.identity, leader=self.leader
            )
        return self.leader

    def release(self) -> None:
        """Hand the Lease back (on shutdown), so that another replica takes over at once."""
        if not self.leader:
            return
        self.leader = False
        try:
            lease = self.kube.request("GET", self.path).body
            if lease.get("spec", {}).get("holderIdentity") == self.identity:
                lease["spec"]["holderIdentity"] = ""
                self.kube.request("PUT", self.path, body=lease)
        except ApiError:
            pass  # it expires on its own

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.attempt()
            stop.wait(self.lease_seconds / 3)
        self.release()

    def _take(self) -> bool:
        now = self.clock()
        spec: dict[str, Any] = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": max(1, round(self.lease_seconds)),
            "renewTime": _format(now),
        }
        try:
            lease = self.kube.request("GET", self.path).body
        except ApiError as error:
            if error.status != 404:
                raise
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": {**spec, "acquireTime": _format(now), "leaseTransitions": 0},
            }
            self.kube.request("POST", self.path.rsplit("/", 1)[0], body=body)
            return True
        current = lease.get("spec") or {}
        if not may_take(current, identity=self.identity, now=now):
            return False
        if current.get("holderIdentity") != self.identity:
            spec["acquireTime"] = _format(now)
            spec["leaseTransitions"] = int(current.get("leaseTransitions") or 0) + 1
        lease["spec"] = {**current, **spec}
        self.kube.request("PUT", self.path, body=lease)  # carries resourceVersion: a lost race is a 409
        return True


def _format(moment: datetime.datetime) -> str:
    return rfc3339(moment, micro=True)
