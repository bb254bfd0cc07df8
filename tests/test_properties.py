"""Properties over generated input: nothing crashes the server, and mutation is idempotent."""

import copy
import json
from typing import Any

import jsonpatch
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.memory import MemoryCluster
from tests.peers import client_as
from tests.proxies import cluster as proxy_cluster
from tests.proxies import proxy
from tests.reviews import review
from webhook.core import labels
from webhook.core.admission import Endpoint
from webhook.core.configmaps import plan_configmap_mutation
from webhook.core.hosts import find_data_hosts, find_hosts, replace_hosts
from webhook.core.mutation import plan_mutation
from webhook.core.objects import Namespace
from webhook.core.settings import Settings
from webhook.dev import seed
from webhook.http.app import create_app
from webhook.http.metrics import sample

FRAGMENTS = [
    "http://", "amqp://u:p@", "jdbc:postgresql://", "serviceb", "servicea", "redis", "db", "unknown", ":80", ":6379",
    "/", "?q=", "#", ",", ";", " ", "@", ".", "foobar", ".svc", ".cluster.local", "$(X)", "[::1]", "10.0.0.1",
    "localhost", "-", "tcp(", ")", "=", "\t", "é", "\u2028", ":", "::",
    "kafka-0.", "serviceb-1.serviceb", "--", "host", "Server=", "s3://", "?endpoint=", "&", "1@", "\n", "\r\n",
    "$(SERVICEB_URL)", "key: ", "HOST=",
]  # fmt: skip
VALUES = st.one_of(st.text(max_size=60), st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join))
NAMES = st.one_of(
    st.sampled_from(["SERVICEB_URL", "REDIS_HOST", "MODE", "DSN", "X", "OTEL_SERVICE_NAME", "ConnectionStrings__A"]),
    st.text(max_size=12),
)
ARGS = st.lists(st.one_of(VALUES, st.sampled_from(["--redis-host", "--upstream", "-h", "--"])), max_size=6)
QUALIFIED = ".foobar.svc.cluster.local"

CLUSTER = MemoryCluster.of(*seed.old_namespace(), seed.new_namespace("foo"), seed.app("a", "foo")[0])
APP = create_app(Settings(), CLUSTER)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@given(value=VALUES, variable=NAMES, used_as_host=st.booleans())
def test_host_spans_always_cover_their_host_text(value: str, variable: str, used_as_host: bool) -> None:
    refs = find_hosts(value, variable=variable, used_as_host=used_as_host) + find_data_hosts(value, key=variable)
    for ref in refs:
        assert value[ref.start : ref.end] == ref.host
        assert ref.rule
    assert replace_hosts(value, {ref: ref.host for ref in find_data_hosts(value, key=variable)}) == value


def only_qualified(before: str, after: str) -> bool:
    """``after`` is ``before`` with names qualified: take the qualification out and nothing else differs
    (but the case of the hosts, which DNS ignores)."""
    return after.replace(QUALIFIED, "").lower() == before.replace(QUALIFIED, "").lower()


@given(env=st.lists(st.tuples(NAMES, VALUES), max_size=6), args=ARGS, command=ARGS)
@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=200)
def test_mutation_patch_is_idempotent(env: list[tuple[str, str]], args: list[str], command: list[str]) -> None:
    obj = seed.deployment("appa", "foo", {})
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": n, "value": v} for n, v in env]
    container["args"], container["command"] = args, command
    request = review(obj)["request"]
    untouched = copy.deepcopy(request["object"])
    first = plan_mutation(request["object"], CLUSTER, Settings(), namespace="foo", operation="CREATE")
    assert request["object"] == untouched, "the object under review is never changed in place"
    mutated = jsonpatch.apply_patch(obj, first.patch)
    second = plan_mutation(mutated, CLUSTER, Settings(), namespace="foo", operation="UPDATE")
    assert second.patch == []
    after = mutated["spec"]["template"]["spec"]["containers"][0]
    befores = [v for _, v in env] + args + command
    afters = [e["value"] for e in after["env"]] + after["args"] + after["command"]
    assert all(only_qualified(b, a) for b, a in zip(befores, afters, strict=True))


CONFIGMAP_CLUSTER = MemoryCluster.of(
    *seed.old_namespace(),
    seed.namespace("foo", {labels.MIGRATE_FROM: "foobar", labels.REWRITE_CONFIGMAPS: "true"}),
)


@given(data=st.dictionaries(NAMES, st.lists(VALUES, max_size=4).map("\n".join), max_size=5))
@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=200)
def test_configmap_patch_is_idempotent_and_changes_nothing_but_hosts(data: dict[str, str]) -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "foo"}, "data": data}
    untouched = copy.deepcopy(obj)
    first = plan_configmap_mutation(obj, CONFIGMAP_CLUSTER, Settings(), namespace="foo", operation="CREATE")
    assert obj == untouched
    mutated = jsonpatch.apply_patch(obj, first.patch)
    again = plan_configmap_mutation(mutated, CONFIGMAP_CLUSTER, Settings(), namespace="foo", operation="UPDATE")
    assert again.patch == []
    assert all(only_qualified(data[key], mutated["data"][key]) for key in data)


ENDPOINTS: tuple[Endpoint, ...] = ("mutate", "validate")
each_endpoint = pytest.mark.parametrize("endpoint", ENDPOINTS)


def _post(body: bytes, app: Flask = APP, endpoint: Endpoint = "mutate") -> Any:
    """POST to ``/<endpoint>``; whatever the answer, no input so far went through the internal-error path."""
    answer = client_as(app).post(f"/{endpoint}", data=body, content_type="application/json")
    assert internal_errors(app) == dict.fromkeys(ENDPOINTS, 0.0), "an input was answered as an internal error"
    return answer


def internal_errors(app: Flask) -> dict[str, float]:
    """``nsmigrate_internal_errors_total`` of each admission endpoint, as /metrics shows it."""
    text = app.extensions["nsmigrate.metrics"].render().decode()
    return {endpoint: sample(text, "nsmigrate_internal_errors_total", endpoint=endpoint) for endpoint in ENDPOINTS}


@each_endpoint
@given(body=JSON)
def test_arbitrary_json_bodies_never_get_a_500(endpoint: Endpoint, body: Any) -> None:
    assert _post(json.dumps(body).encode(), endpoint=endpoint).status_code in (200, 400)


@each_endpoint
@given(request=st.dictionaries(st.sampled_from(["uid", "kind", "operation", "object", "oldObject", "namespace",
                                                "dryRun", "userInfo", "name"]), JSON, max_size=9))  # fmt: skip
def test_arbitrary_requests_never_get_a_500(endpoint: Endpoint, request: dict[str, Any]) -> None:
    body = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}
    answer = _post(json.dumps(body).encode(), endpoint=endpoint)
    assert answer.status_code in (200, 400)
    if answer.status_code == 200:
        assert answer.get_json()["response"]["uid"] == request["uid"]


ENV_ENTRIES = st.lists(
    st.one_of(JSON, st.fixed_dictionaries({"name": NAMES | JSON, "value": VALUES | JSON})), max_size=4
)
CONTAINERS = st.lists(st.one_of(JSON, st.fixed_dictionaries({"name": JSON, "env": ENV_ENTRIES | JSON})), max_size=3)
POD_SPECS = st.one_of(JSON, st.fixed_dictionaries({"containers": CONTAINERS, "initContainers": CONTAINERS | JSON}))
TEMPLATES = st.one_of(JSON, st.fixed_dictionaries({"metadata": JSON, "spec": POD_SPECS}))
OBJECTS = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["Deployment", "StatefulSet", "CronJob", "Pod", "Other"]),
        "metadata": st.one_of(JSON, st.fixed_dictionaries({"namespace": st.just("foo"), "annotations": JSON})),
        "spec": st.one_of(JSON, st.fixed_dictionaries({"template": TEMPLATES})),
    }
)


@given(obj=OBJECTS)
@settings(max_examples=300)
def test_arbitrary_objects_in_a_valid_review_are_answered(obj: dict[str, Any]) -> None:
    body = review(seed.deployment("appa", "foo", {}))
    body["request"]["object"] = obj
    answer = _post(json.dumps(body).encode())
    assert answer.status_code == 200
    assert answer.get_json()["response"]["allowed"] is True, "an odd object must not be an internal error"


@each_endpoint
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_get_a_500(endpoint: Endpoint, raw: bytes) -> None:
    assert _post(raw, endpoint=endpoint).status_code in (200, 400)


CONFIGMAP_APP = create_app(Settings(), CONFIGMAP_CLUSTER)
CONFIGMAPS = st.fixed_dictionaries(
    {
        "kind": st.just("ConfigMap"),
        "metadata": st.one_of(JSON, st.fixed_dictionaries({"namespace": st.just("foo"), "annotations": JSON})),
        "data": st.one_of(JSON, st.dictionaries(NAMES, VALUES | JSON, max_size=4)),
    }
)


@given(obj=CONFIGMAPS)
@settings(max_examples=200)
def test_arbitrary_configmaps_in_a_valid_review_are_answered(obj: dict[str, Any]) -> None:
    body = review({"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "foo"}, "data": {}})
    body["request"]["object"] = obj
    answer = _post(json.dumps(body).encode(), CONFIGMAP_APP)
    assert answer.status_code == 200
    assert answer.get_json()["response"]["allowed"] is True, "an odd ConfigMap must not be an internal error"


PROXY_APP = create_app(Settings(), proxy_cluster(seed.deployment("appc", "foobar", {"A": "http://servicea/"})))
PROXY_PATHS = [
    ("metadata",), ("metadata", "name"), ("metadata", "namespace"), ("metadata", "labels"),
    ("metadata", "labels", labels.PROXY), ("metadata", "labels", labels.MANAGED_BY), ("metadata", "annotations"),
    ("metadata", "annotations", labels.PROXY_FOR), ("metadata", "annotations", labels.ALLOW_DELETE),
    ("metadata", "annotations", labels.ORIGINAL_SPEC), ("spec",), ("spec", "ports"), ("spec", "selector"),
]  # fmt: skip
PROXY_VALUES = st.sampled_from(["true", labels.MANAGER, "foo/servicea", "foo/", "/", "{", ""]) | VALUES | JSON
EDITS = st.lists(st.tuples(st.sampled_from(PROXY_PATHS), PROXY_VALUES), max_size=4)


def edited(obj: dict[str, Any], edits: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    """``obj`` with each (path, value) set where the path still leads to an object."""
    for path, value in edits:
        parent: Any = obj
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent[path[-1]] = value
    return obj


@given(edits=EDITS)
@settings(max_examples=300)
def test_proxies_edited_arbitrarily_in_a_valid_deletion_review_are_answered(
    edits: list[tuple[tuple[str, ...], Any]],
) -> None:
    """Deletions of the proxy appc calls (refused), and of every variation of it (whatever is decided)."""
    body = review(None, operation="DELETE", old=proxy())
    body["request"]["oldObject"] = edited(proxy(), edits)
    answer = _post(json.dumps(body).encode(), PROXY_APP, endpoint="validate")
    assert answer.status_code == 200
    assert answer.get_json()["response"]["uid"] == body["request"]["uid"]
    if not edits:
        assert answer.get_json()["response"]["allowed"] is False, "the proxy appc calls is kept"


class Broken(MemoryCluster):
    """A cluster whose every namespace lookup fails: an error of nsmigrate's own, on purpose."""

    def namespace(self, name: str) -> Namespace | None:
        raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        pytest.param("mutate", review(seed.deployment("appa", "foo", {})), id="mutate"),
        pytest.param("validate", review(None, operation="DELETE", old=proxy()), id="validate"),
    ],
)
def test_an_internal_error_is_counted_where_the_properties_read_it(endpoint: Endpoint, body: dict[str, Any]) -> None:
    app = create_app(Settings(), Broken.of(*seed.old_namespace(), seed.new_namespace("foo")))
    answer = client_as(app).post(f"/{endpoint}", data=json.dumps(body), content_type="application/json")
    assert answer.status_code == 200
    assert internal_errors(app) == {name: float(name == endpoint) for name in ENDPOINTS}
