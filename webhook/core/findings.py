"""A readiness finding: one record (reason, object, message) that every face renders as it is."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Literal

from webhook.core.audit import COMPONENT
from webhook.core.timestamps import rfc3339

Reason = Literal[
    "NetworkPolicyBlocksCallers",
    "MissingDependency",
    "PodsRejected",
    "IdentityBoundToOldNamespace",
    "IngressBackendExternalName",
]


WARNING_LENGTH = 200
"""Longest admission warning text (with nsmigrate's prefix it stays under the API server's cut)."""


@dataclass(frozen=True, slots=True)
class Finding:
    reason: Reason
    kind: str
    namespace: str
    name: str
    message: str
    holds: bool = False
    """It holds the handover of ``namespace/name`` back (NetworkPolicyBlocksCallers on a live Service)."""
    caller: str = ""
    """The caller it is about, when it is about one (``deployment foobar/appc``)."""
    cause: str = ""
    """The object that causes it, when one does (``networkpolicy foo/default-deny``)."""

    @property
    def object(self) -> str:
        return f"{self.kind.lower()} {self.namespace}/{self.name}"

    def warning(self) -> str:
        """As an admission warning: the API server cuts longer ones (kubectl then shows a broken end)."""
        text = f"{self.reason}: {self.message}"
        return text if len(text) <= WARNING_LENGTH else text[: WARNING_LENGTH - 3] + "..."

    def as_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "object": self.object,
            "message": self.message,
            "holdsHandover": self.holds,
            **({"caller": self.caller} if self.caller else {}),
            **({"cause": self.cause} if self.cause else {}),
        }


API_VERSIONS = {
    "Service": "v1",
    "Pod": "v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "Ingress": "networking.k8s.io/v1",
    "HTTPRoute": "gateway.networking.k8s.io/v1",
    "GRPCRoute": "gateway.networking.k8s.io/v1",
}
"""The apiVersion of an Event's involved object, by kind (workloads otherwise: apps/v1)."""


def finding_event(finding: Finding, *, uid: str, now: datetime.datetime) -> dict[str, Any]:
    """A Warning Event on the object a finding is about."""
    where = (finding.kind, finding.namespace, finding.name, uid)
    return warning_event(where, reason=finding.reason, message=finding.message, action="Readiness", now=now)


def warning_event(
    involved: tuple[str, str, str, str], *, reason: str, message: str, action: str, now: datetime.datetime
) -> dict[str, Any]:
    """A Warning Event on ``involved`` (kind, namespace, name, uid); one name per object and reason, so that
    the same warning said again bumps its count."""
    kind, namespace, name, uid = involved
    stamp = rfc3339(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{reason.lower()}", "namespace": namespace},
        "involvedObject": {
            "apiVersion": API_VERSIONS.get(kind, "apps/v1"),
            "kind": kind,
            "namespace": namespace,
            "name": name,
            "uid": uid,
        },
        "type": "Warning",
        "reason": reason,
        "message": message[:1024],
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": COMPONENT,
        "action": action,
        "count": 1,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
    }
