"""Realistic AdmissionReview bodies for the benchmarks."""

from __future__ import annotations

import json
import uuid
from typing import Any

from webhook.core.fields import JsonObject
from webhook.dev import seed


def typical_deployment(namespace: str, old: str, *, name: str = "appa") -> JsonObject:
    """2 containers, 20 env vars, 5 of them short names of old-namespace Services."""
    env = {f"SETTING_{n}": f"value-{n}" for n in range(15)}
    env |= {f"SVC{n}_URL": f"http://svc{n}:8080/api" for n in range(5)}
    deployment = seed.deployment(name, namespace, {})
    containers = deployment["spec"]["template"]["spec"]["containers"]
    items = list(env.items())
    containers[:] = [
        {"name": f"c{index}", "image": seed.IMAGE, "env": [{"name": k, "value": v} for k, v in items[index::2]]}
        for index in range(2)
    ]
    return deployment


def large_deployment(namespace: str, *, name: str = "large") -> JsonObject:
    """20 containers x 50 env vars, a fifth of them references."""
    deployment = seed.deployment(name, namespace, {})
    deployment["spec"]["template"]["spec"]["containers"] = [
        {
            "name": f"c{c}",
            "image": seed.IMAGE,
            "env": [
                {"name": f"VAR_{c}_{n}", "value": f"http://svc{n % 5}:80/x" if n % 5 == 0 else f"plain value {n}"}
                for n in range(50)
            ],
        }
        for c in range(20)
    ]
    return deployment


def review_body(obj: JsonObject | None, *, operation: str = "CREATE", old: JsonObject | None = None) -> bytes:
    subject = obj or old or {}
    kind = subject.get("kind", "Deployment")
    group = {"Service": "", "Deployment": "apps"}.get(kind, "apps")
    request: dict[str, Any] = {
        "uid": str(uuid.uuid4()),
        "kind": {"group": group, "version": "v1", "kind": kind},
        "resource": {"group": group, "version": "v1", "resource": kind.lower() + "s"},
        "namespace": subject["metadata"]["namespace"],
        "name": subject["metadata"]["name"],
        "operation": operation,
        "userInfo": {"username": "bench", "groups": ["system:authenticated"]},
        "object": obj,
        "oldObject": old,
        "dryRun": True,
    }
    return json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}).encode()
