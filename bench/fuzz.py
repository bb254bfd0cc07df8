"""Fuzzing the webhook in process: generated AdmissionReviews against the Flask app, as the API server
would send them (its client certificate in the WSGI environ), every answer checked.

    python -m bench.fuzz [--count 100000] [--seed 14]

Reviews: malformed bodies (cut, corrupted, wrong shapes and types), oversized ones, odd objects (any
JSON where a field is expected), every kind, every operation, DELETE with a null object. The checks:
no HTTP 500 (nor anything but 200, 400 and 413), every answer echoes its uid, and every patch applies
to its object and is idempotent (the patched object, reviewed again as an UPDATE, gets no patch).
Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import logging
import random
import sys
import time
import traceback
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import jsonpatch
from flask.testing import FlaskClient

from tests.memory import MemoryCluster
from tests.peers import client_as
from webhook.core import labels, logs
from webhook.core.fields import JsonObject
from webhook.core.objects import Service, ServicePort
from webhook.core.proxies import build_proxy
from webhook.core.settings import Settings
from webhook.dev import seed
from webhook.http.app import create_app

GROUPS = {
    "Deployment": "apps",
    "StatefulSet": "apps",
    "DaemonSet": "apps",
    "Job": "batch",
    "CronJob": "batch",
    "ConfigMap": "",
    "Pod": "",
    "Service": "",
    "Widget": "example.com",
}
NAMESPACES = ["foo", "foo", "foo", "cms", "foobar", "kube-system", "nsmigrate", "elsewhere", ""]
VARIABLES = ["SERVICEB_URL", "DB_HOST", "OTEL_SERVICE_NAME", "KAFKA_BROKERS", "CONNECTIONSTRINGS__MAIN", "MODE", "X"]
VALUES = [
    "http://serviceb/",
    "serviceb:80",
    "servicec",
    "amqp://user:pw@serviceb:5672/vh",
    "jdbc:postgresql://servicec:5432/app",
    "Server=serviceb;Database=x;",
    "kafka-0.kafka:9092,kafka-1.kafka:9092",
    "s3://bucket?endpoint=serviceb:9000",
    "http://$(SERVICEB_URL):4317",
    "servicea.foobar.svc.cluster.local",
    "http://nothere/",
    "localhost:80",
    "10.0.0.1:80",
    "",
    "ü://ß:80/☃",
    "serviceb " * 50,
]
MAX_BODY = Settings().max_body_bytes


def cluster() -> MemoryCluster:
    """The seed (foobar with a, b, c; foo migrating from it), a local Service in foo, a proxy with a
    caller, a headless StatefulSet Service, a ConfigMap consumed by a workload."""
    proxy = build_proxy(
        Service("foo", "servicea", ports=(ServicePort(80),)), old_namespace="foobar", cluster_domain="cluster.local"
    )
    kafka = seed.service("kafka", "foobar", "kafka")
    kafka["spec"]["clusterIP"] = "None"
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "foobar"},
        "data": {"UPSTREAM_ADDR": "servicec:80", "config.yaml": "url: http://serviceb/\nlevel: info\n"},
    }
    return MemoryCluster.of(
        *seed.old_namespace(),
        seed.new_namespace("foo"),
        seed.namespace("cms", {labels.MIGRATE_FROM: "foobar", "nsmigrate.io/rewrite-configmaps": "true"}),
        seed.service("servicec", "foo", "local"),
        proxy,
        kafka,
        configmap,
    )


class Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def junk(self, depth: int = 0) -> Any:
        """Any JSON value, nested a little."""
        rng = self.rng
        choice = rng.randrange(9 if depth < 3 else 6)
        if choice == 0:
            return None
        if choice == 1:
            return rng.choice([True, False])
        if choice == 2:
            return rng.choice([0, -1, 2**63, 10**30, 3.5, -0.0])
        if choice in (3, 4, 5):
            return rng.choice([*VALUES, "Deployment", "CREATE", "apps", "\x00", "a" * 300])
        if choice == 6:
            return [self.junk(depth + 1) for _ in range(rng.randrange(4))]
        keys = ["name", "value", "env", "spec", "metadata", "containers", "template", "kind", "x"]
        return {rng.choice(keys): self.junk(depth + 1) for _ in range(rng.randrange(4))}

    def container(self) -> dict[str, Any]:
        rng = self.rng
        env: list[Any] = [{"name": rng.choice(VARIABLES), "value": rng.choice(VALUES)} for _ in range(rng.randrange(6))]
        if rng.random() < 0.1:
            env.append({"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}})
        container: dict[str, Any] = {"name": f"c{rng.randrange(3)}", "image": seed.IMAGE, "env": env}
        if rng.random() < 0.3:
            container["args"] = [rng.choice(["--redis-host", "--upstream=serviceb", "serviceb:80", "-v"])]
        if rng.random() < 0.2:
            container["command"] = ["sh", "-c", rng.choice(VALUES)]
        return container

    def workload(self, kind: str, namespace: str) -> JsonObject:
        rng = self.rng
        pod_spec = {"containers": [self.container() for _ in range(1 + rng.randrange(2))]}
        if rng.random() < 0.2:
            pod_spec["initContainers"] = [self.container()]
        pod_labels = {"app": rng.choice(["appa", "kafka", "x"])}
        template = {"metadata": {"labels": pod_labels}, "spec": pod_spec}
        spec: dict[str, Any] = {"selector": {"matchLabels": pod_labels}, "template": template}
        if kind == "CronJob":
            spec = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}
        elif kind == "Pod":
            spec = pod_spec
        annotations = {}
        if rng.random() < 0.1:
            annotations[labels.KEEP] = rng.choice(VARIABLES)
        if rng.random() < 0.05:
            annotations["nsmigrate.io/skip"] = "true"
        metadata = {"name": f"w{rng.randrange(50)}", "namespace": namespace, "annotations": annotations}
        return {"apiVersion": f"{GROUPS[kind]}/v1".lstrip("/"), "kind": kind, "metadata": metadata, "spec": spec}

    def configmap(self, namespace: str) -> JsonObject:
        data = {self.rng.choice(VARIABLES): self.rng.choice(VALUES) for _ in range(self.rng.randrange(4))}
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cm", "namespace": namespace},
            "data": data,
        }

    def service(self) -> JsonObject:
        proxy = build_proxy(
            Service("foo", "servicea", ports=(ServicePort(80),)), old_namespace="foobar", cluster_domain="cluster.local"
        )
        if self.rng.random() < 0.2:
            proxy["metadata"]["annotations"][labels.ALLOW_DELETE] = "true"
        return proxy

    def oddity(self, obj: JsonObject) -> JsonObject:
        """The object with one field somewhere replaced by any JSON value."""
        odd = copy.deepcopy(obj)
        node: Any = odd
        for _ in range(self.rng.randrange(1, 7)):
            if isinstance(node, dict) and node:
                key = self.rng.choice(sorted(node))
                if self.rng.random() < 0.4 or not isinstance(node[key], dict | list):
                    node[key] = self.junk()
                    return odd
                node = node[key]
            elif isinstance(node, list) and node:
                index = self.rng.randrange(len(node))
                if self.rng.random() < 0.4 or not isinstance(node[index], dict | list):
                    node[index] = self.junk()
                    return odd
                node = node[index]
        return odd

    def review(self) -> tuple[str, str, Any]:
        """(category, path, review)."""
        rng = self.rng
        kind = rng.choice(list(GROUPS))
        namespace = rng.choice(NAMESPACES)
        operation = rng.choice(["CREATE", "CREATE", "UPDATE", "UPDATE", "DELETE", "CONNECT"])
        if kind == "Service":
            obj = self.service()
        elif kind == "ConfigMap":
            obj = self.configmap(namespace)
        else:
            obj = self.workload(kind, namespace)
        category = "valid"
        if rng.random() < 0.3:
            obj, category = self.oddity(obj), "odd-object"
        request: dict[str, Any] = {
            "uid": str(uuid.UUID(int=rng.getrandbits(128))),
            "kind": {"group": GROUPS[kind], "version": "v1", "kind": kind},
            "resource": {"group": GROUPS[kind], "version": "v1", "resource": kind.lower() + "s"},
            "namespace": namespace,
            "name": dict(obj.get("metadata") or {}).get("name", "x") if isinstance(obj.get("metadata"), dict) else "x",
            "operation": operation,
            "userInfo": {"username": "fuzz", "groups": ["system:authenticated"]},
            "object": None if operation == "DELETE" else obj,
            "oldObject": obj if operation in ("UPDATE", "DELETE") else None,
            "dryRun": rng.random() < 0.3,
        }
        if operation == "DELETE":
            category = "delete-null-object" if category == "valid" else category
        path = "/validate" if operation == "DELETE" and rng.random() < 0.8 else "/mutate"
        body = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}
        if rng.random() < 0.15:
            body, category = self.malformed(body), "malformed"
        return category, path, body

    def malformed(self, review: dict[str, Any]) -> Any:
        rng = self.rng
        body: Any = review
        request = review["request"]
        damage = rng.randrange(8)
        if damage == 0:
            request.pop(rng.choice(sorted(request)))
        elif damage == 1:
            request[rng.choice(sorted(request))] = self.junk()
        elif damage == 2:
            body["apiVersion"] = rng.choice(["admission.k8s.io/v1beta1", None, 1])
        elif damage == 3:
            body["request"] = self.junk()
        elif damage == 4:
            body = [body]
        elif damage == 5:
            body = self.junk()
        elif damage == 6:
            request["userInfo"] = self.junk()
        else:
            request["kind"] = self.junk()
        return body

    def raw(self, body: Any) -> bytes:
        """The body as bytes; now and then cut short or corrupted."""
        data = json.dumps(body).encode()
        roll = self.rng.random()
        if roll < 0.03:
            return data[: self.rng.randrange(len(data) + 1)]
        if roll < 0.05:
            index = self.rng.randrange(len(data)) if data else 0
            return data[:index] + bytes([self.rng.randrange(256)]) + data[index + 1 :]
        if roll < 0.06:
            return bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(64)))
        return data


def idempotent(client: FlaskClient, request: dict[str, Any], obj: JsonObject, patch_b64: str) -> str | None:
    """None when the patch applies and the patched object gets no further patch, else what went wrong."""
    try:
        patch = json.loads(base64.b64decode(patch_b64))
        mutated = jsonpatch.apply_patch(obj, patch)
    except (ValueError, jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
        return f"patch does not apply: {error}"
    again = dict(request, uid=str(uuid.uuid4()), operation="UPDATE", object=mutated, oldObject=mutated)
    body = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": again}
    answer = client.post("/mutate", data=json.dumps(body), content_type="application/json")
    response = answer.get_json()["response"] if answer.status_code == 200 else {}
    if answer.status_code != 200 or "patch" in response:
        return f"second review: HTTP {answer.status_code}, patch {response.get('patch')}"
    return None


class Errors(logging.Handler):
    """The exceptions behind internal errors (answered per failure policy, logged by the app)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            frame = traceback.extract_tb(error.__traceback__)[-1]
            self.seen[f"{type(error).__name__} at {Path(frame.filename).name}:{frame.lineno}"] += 1


def _request_sent(data: bytes) -> Any:
    """The request in a body as sent."""
    try:
        sent = json.loads(data)
    except ValueError:
        return None
    return sent.get("request") if isinstance(sent, dict) else None


def run(count: int, seed_value: int) -> dict[str, Any]:
    errors = Errors()
    logger = logging.getLogger(logs.LOGGER)
    logger.handlers[:], logger.propagate = [errors], False  # the audit lines of denials are not the figure
    rng = random.Random(seed_value)  # noqa: S311 - reproducible reviews, not secrets
    generator = Generator(rng)
    client = client_as(create_app(Settings(), cluster()))
    statuses: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    failures: list[str] = []
    patched = 0
    started = time.perf_counter()
    for n in range(count):
        if n % 5000 == 4999:  # oversized: answered from the declared length
            category, path, data, obj = "oversized", "/mutate", b"{" + b" " * MAX_BODY + b"}", None
            request: Any = None
        else:
            category, path, body = generator.review()
            data = generator.raw(body)
            request = _request_sent(data)  # as sent: a corrupted byte may have changed any of it
            obj = request.get("object") if isinstance(request, dict) else None
        categories[category] += 1
        answer = client.post(path, data=data, content_type="application/json")
        statuses[str(answer.status_code)] += 1
        if answer.status_code not in (200, 400, 413):
            failures.append(f"HTTP {answer.status_code} for a {category} review: {answer.get_data(as_text=True)[:200]}")
            continue
        if answer.status_code != 200 or not isinstance(request, dict):
            continue
        response = answer.get_json()["response"]
        if response.get("uid") != request.get("uid"):
            failures.append(f"uid {response.get('uid')!r} answers {request.get('uid')!r}")
        if "patch" in response and isinstance(obj, dict):
            patched += 1
            if problem := idempotent(client, request, obj, response["patch"]):
                failures.append(f"non-idempotent patch ({category}): {problem[:200]}")
    seconds = time.perf_counter() - started
    return {
        "reviews": count,
        "seconds": seconds,
        "statuses": dict(statuses),
        "categories": dict(categories),
        "patched": patched,
        "http_500": statuses.get("500", 0),
        "internal_errors": dict(errors.seen),
        "failures": failures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="reviews to send (default 100,000)")
    parser.add_argument("--seed", type=int, default=14, help="random seed (the same seed, the same reviews)")
    args = parser.parse_args(argv)
    result = run(args.count, args.seed)
    print(json.dumps({key: value for key, value in result.items() if key != "failures"}, indent=2))
    print(
        f"fuzz: {result['reviews']} reviews in {result['seconds']:.0f} s, {result['http_500']} HTTP 500, "
        f"{result['patched']} patches checked, {len(result['failures'])} failures, "
        f"{sum(result['internal_errors'].values())} internal errors (answered per failure policy)"
    )
    for failure in result["failures"][:20]:
        print(f"  {failure}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
