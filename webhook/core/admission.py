"""The admission seam: one decoded review in, one response out. ``AdmissionHandler.handle`` is all the
HTTP layer calls; what it counts and audits goes out through hooks, so the transport carries bytes only.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Literal, Protocol

from webhook.core import audit, logs, review
from webhook.core.cluster import Cluster
from webhook.core.configmaps import admit_configmap
from webhook.core.fields import JsonObject
from webhook.core.mutation import MutationResult, admit_workload
from webhook.core.settings import Settings
from webhook.core.validation import DeletionDecision, decide_deletion

Endpoint = Literal["mutate", "validate"]


class Handler(Protocol):
    """Anything that answers reviews: nsmigrate's handler, or the benchmark's no-op."""

    def handle(self, endpoint: str, admission: review.AdmissionRequest) -> review.Response: ...


class AdmissionHooks(Protocol):
    """What the shell counts of each decision (the metrics implement it)."""

    def mutated(self, result: MutationResult) -> None: ...

    def audited(self, decision: DeletionDecision) -> None: ...


class NoHooks:
    def mutated(self, result: MutationResult) -> None:
        pass

    def audited(self, decision: DeletionDecision) -> None:
        pass


class AdmissionHandler:
    """Decides reviews with the core's rules over ``cluster``; audited deletions leave a log line, an
    Event (handed to ``emit``, which must not block) and audit annotations."""

    def __init__(
        self,
        settings: Settings,
        cluster: Cluster,
        *,
        hooks: AdmissionHooks | None = None,
        emit: Callable[[JsonObject], None] = lambda event: None,
    ) -> None:
        self.settings = settings
        self.cluster = cluster
        self.hooks = hooks or NoHooks()
        self.emit = emit

    def handle(self, endpoint: str, admission: review.AdmissionRequest) -> review.Response:
        return self.mutate(admission) if endpoint == "mutate" else self.validate(admission)

    def mutate(self, admission: review.AdmissionRequest) -> review.Response:
        admit = admit_configmap if admission["kind"]["kind"] == "ConfigMap" else admit_workload
        result = admit(admission, self.cluster, self.settings)
        self.hooks.mutated(result)
        if result.plan.rewrites or result.created or result.failed:
            logs.event(
                "workload_mutated",
                uid=admission["uid"],
                workload=f"{admission.get('namespace', '')}/{admission.get('name', '')}",
                kind=admission["kind"]["kind"],
                operation=admission["operation"],
                dryRun=bool(admission.get("dryRun")),
                rewrites=[rewrite.record() for rewrite in result.plan.rewrites],
                proxiesCreated=result.created,
                proxiesFailed=result.failed,
            )
        return result.response

    def validate(self, admission: review.AdmissionRequest) -> review.Response:
        decision = decide_deletion(admission, self.cluster, self.settings)
        answer = review.allowed() if decision.allowed else review.denied(decision.message())
        if not audit.is_audited(decision):
            return answer
        self.hooks.audited(decision)
        logs.event(audit.LOG_EVENTS[decision.verdict], level=logging.WARNING, **audit.log_fields(decision, admission))
        self.emit(audit.event_manifest(decision, admission, now=datetime.datetime.now(datetime.UTC)))
        return review.with_audit(answer, audit.audit_annotations(decision))


def failure_answer(settings: Settings, uid: str) -> review.Response:
    """The answer to a review nsmigrate failed to decide: what its failure policy would do."""
    if settings.failure_policy == "Ignore":
        return review.allowed(warnings=[f"internal error, admitted unchanged (review {uid}; see webhook logs)"])
    return review.errored(
        f"nsmigrate could not process this object (review {uid}); nothing was changed, retry or see the webhook logs"
    )
