"""The audit trail of refused and forced proxy deletions, built from a decision as plain data.

Each denial (dry-run included) and each forced deletion leaves a JSON log line, a Kubernetes Event
on the proxy, ``auditAnnotations`` in the admission response and a metric increment; this module
builds the first three, the shell writes them.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from typing import Any

from webhook.core.fields import JsonObject, dig
from webhook.core.review import AdmissionRequest
from webhook.core.timestamps import rfc3339
from webhook.core.validation import DeletionDecision

COMPONENT = "nsmigrate"
EVENT_REASONS = {"denied": "ProxyDeletionDenied", "forced": "ProxyDeletionForced"}
LOG_EVENTS = {"denied": "proxy_deletion_denied", "forced": "proxy_deletion_forced"}
_EVENT_MESSAGE_LIMIT = 1024


def is_audited(decision: DeletionDecision) -> bool:
    return decision.verdict in EVENT_REASONS


def log_fields(decision: DeletionDecision, request: AdmissionRequest) -> dict[str, Any]:
    """The fields of the JSON log line (its ``event`` and ``time`` are added by the logger)."""
    user = request.get("userInfo", {})
    fields: dict[str, Any] = {
        "proxy": decision.proxy,
        "user": user.get("username", ""),
        "groups": list(user.get("groups", [])),
        "callers": [caller.describe() for caller in decision.callers],
        "dryRun": bool(request.get("dryRun")),
        "uid": request["uid"],
    }
    if decision.reason:
        fields["reason"] = decision.reason
    return fields


def audit_annotations(decision: DeletionDecision) -> dict[str, str]:
    """Keys the API server records in its audit log, prefixed with the webhook's name."""
    annotations = {"proxy-deletion": decision.verdict, "proxy": decision.proxy}
    if decision.callers:
        annotations["callers"] = "; ".join(caller.describe() for caller in decision.callers)
    if decision.reason:
        annotations["reason"] = decision.reason
    return annotations


def event_manifest(decision: DeletionDecision, request: AdmissionRequest, *, now: datetime.datetime) -> JsonObject:
    """A Warning Event on the proxy. Its name is fixed per proxy and reason, so that repeated
    denials aggregate into the Event's count instead of flooding the namespace."""
    namespace, _, name = decision.proxy.partition("/")
    reason = EVENT_REASONS[decision.verdict]
    user = request.get("userInfo", {}).get("username", "unknown user")
    dry_run = " (dry run)" if request.get("dryRun") else ""
    if decision.verdict == "denied":
        message = f"deletion by {user}{dry_run} refused: {len(decision.callers)} caller(s): " + "; ".join(
            caller.describe() for caller in decision.callers
        )
    else:
        message = f"deletion by {user}{dry_run} allowed despite callers check: {decision.reason}"
    stamp = rfc3339(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{reason.lower()}", "namespace": namespace},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Service",
            "namespace": namespace,
            "name": name,
            "uid": dig(request, "oldObject", "metadata").get("uid", ""),
        },
        "type": "Warning",
        "reason": reason,
        "message": message[:_EVENT_MESSAGE_LIMIT],
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": COMPONENT,
        "action": "Delete",
        "count": 1,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
    }


def audit_from_events(events: Iterable[JsonObject]) -> list[dict[str, Any]]:
    """Denied and forced proxy deletions recorded as Events (newest first)."""
    entries = []
    for event in events:
        reason = event.get("reason")
        if reason not in EVENT_REASONS.values():
            continue
        involved = event.get("involvedObject") or {}
        entries.append(
            {
                "time": event.get("lastTimestamp") or event.get("eventTime") or "",
                "event": LOG_EVENTS["denied" if reason == EVENT_REASONS["denied"] else "forced"],
                "proxy": f"{involved.get('namespace')}/{involved.get('name')}",
                "count": event.get("count", 1),
                "message": event.get("message", ""),
                "source": "event",
            }
        )
    return sorted(entries, key=lambda entry: entry["time"], reverse=True)


def audit_from_log(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Denied and forced proxy deletions from the webhook's JSON log lines (newest first)."""
    entries = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") in LOG_EVENTS.values():
            entries.append({**record, "source": "log"})
    return sorted(entries, key=lambda entry: str(entry.get("time", "")), reverse=True)
