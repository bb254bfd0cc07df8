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


def finding_event(finding: Finding, *, uid: str, now: datetime.datetime) -> dict[str, Any]:
    """A Warning Event on the object a finding is about; one name per object and reason, so that a
    finding said again bumps its count."""
    stamp = rfc3339(now)
    api_version = "v1" if finding.kind in ("Service", "Pod") else "apps/v1"
    if finding.kind == "NetworkPolicy":
        api_version = "networking.k8s.io/v1"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{finding.name}.{finding.reason.lower()}", "namespace": finding.namespace},
        "involvedObject": {
            "apiVersion": api_version,
            "kind": finding.kind,
            "namespace": finding.namespace,
            "name": finding.name,
            "uid": uid,
        },
        "type": "Warning",
        "reason": finding.reason,
        "message": finding.message[:1024],
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": COMPONENT,
        "action": "Readiness",
        "count": 1,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
    }
