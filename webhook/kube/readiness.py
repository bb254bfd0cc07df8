"""Readiness for the leader loop: ``plan_readiness`` over the cache, each new finding told once as a
Warning Event, and the ``nsmigrate-callers`` policies written (only ever nsmigrate's own)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from webhook.core import labels, logs
from webhook.core.cluster import ClusterView
from webhook.core.fields import JsonObject
from webhook.core.findings import Finding, finding_event
from webhook.core.readiness import PolicyAction, plan_readiness
from webhook.core.settings import Settings
from webhook.kube.client import ApiError, Kube, path_of


class Readiness:
    def __init__(self, view: ClusterView, settings: Settings, *, record_event: Callable[[JsonObject], None]) -> None:
        self.view = view
        self.settings = settings
        self.record_event = record_event
        self.findings: list[Finding] = []
        """At the last pass: what ``/metrics`` shows."""
        self._told: set[Finding] = set()

    def plan(self) -> list[PolicyAction]:
        plan = plan_readiness(self.view, self.settings)
        self.findings = plan.findings
        for finding in plan.findings:
            if finding not in self._told:
                self._tell(finding)
        self._told = set(plan.findings)
        return plan.actions

    def forget(self) -> None:
        """Another replica leads: a leader to come says every finding again."""
        self._told.clear()

    def _tell(self, finding: Finding) -> None:
        logs.event(
            "readiness_finding",
            level=logging.WARNING,
            reason=finding.reason,
            object=finding.object,
            message=finding.message,
        )
        found = self.view.live().service(finding.namespace, finding.name) if finding.kind == "Service" else None
        event = finding_event(finding, uid=found.uid if found else "", now=datetime.datetime.now(datetime.UTC))
        try:
            self.record_event(event)
        except Exception as error:
            logs.event("event_failed", level=logging.WARNING, reason=finding.reason, error=str(error)[:200])


def write_policy(kube: Kube, action: PolicyAction) -> None:
    """Apply nsmigrate's ``nsmigrate-callers`` policy, or delete it: only while it carries nsmigrate's
    managed-by label (a namesake of the user's is never touched)."""
    if action.verb == "apply":
        kube.apply(action.body)
        return
    found = kube.get("NetworkPolicy", action.namespace, action.name)
    if found is None or (found["metadata"].get("labels") or {}).get(labels.MANAGED_BY) != labels.MANAGER:
        return
    options = {"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": {"uid": found["metadata"]["uid"]}}
    try:
        kube.request("DELETE", path_of("NetworkPolicy", action.namespace, action.name), body=options)
    except ApiError as error:
        if error.status not in (404, 409):
            raise
