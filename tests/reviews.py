"""AdmissionReview bodies as the API server sends them, for unit and property tests."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from webhook.core.fields import JsonObject

GROUPS = {"Deployment": "apps", "StatefulSet": "apps", "DaemonSet": "apps", "Job": "batch", "CronJob": "batch"}


def review(
    obj: JsonObject | None,
    *,
    operation: str = "CREATE",
    old: JsonObject | None = None,
    dry_run: bool = False,
    uid: str | None = None,
) -> dict[str, Any]:
    subject = obj if obj is not None else old or {}
    kind = subject.get("kind", "Deployment")
    metadata = subject.get("metadata", {})
    request: dict[str, Any] = {
        "uid": uid or str(uuid.uuid4()),
        "kind": {"group": GROUPS.get(kind, ""), "version": "v1", "kind": kind},
        "resource": {"group": GROUPS.get(kind, ""), "version": "v1", "resource": kind.lower() + "s"},
        "name": metadata.get("name", ""),
        "namespace": metadata.get("namespace", ""),
        "operation": operation,
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "object": copy.deepcopy(obj),
        "oldObject": copy.deepcopy(old),
        "dryRun": dry_run,
    }
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}
