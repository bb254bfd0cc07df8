import base64
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.memory import MemoryCluster
from tests.peers import Peer, certificate, client_as
from tests.proxies import proxy
from tests.reviews import review
from webhook.core import logs
from webhook.core.objects import Namespace, Service
from webhook.core.settings import Settings
from webhook.dev import seed
from webhook.http.app import create_app


def client(cluster: MemoryCluster | None = None, **settings: Any) -> FlaskClient:
    cluster = cluster or MemoryCluster.of(*seed.old_namespace(), seed.new_namespace("foo"))
    return client_as(create_app(Settings(**settings), cluster))


def post(body: Any, **kwargs: Any) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client(**kwargs).post("/mutate", data=data, content_type="application/json")


def test_review_is_answered_with_the_same_uid_and_a_base64_json_patch() -> None:
    answer = post(review(seed.deployment("appa", "foo", {"U": "http://serviceb/"}), uid="abc-123"))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["apiVersion"] == "admission.k8s.io/v1"
    assert body["kind"] == "AdmissionReview"
    assert body["response"]["uid"] == "abc-123"
    assert body["response"]["allowed"] is True
    assert body["response"]["patchType"] == "JSONPatch"
    patch = json.loads(base64.b64decode(body["response"]["patch"]))
    assert {"op": "replace", "path": "/spec/template/spec/containers/0/env/0/value",
            "value": "http://serviceb.foobar.svc.cluster.local/"} in patch  # fmt: skip


def test_review_with_nothing_to_do_is_allowed_without_patch() -> None:
    body = post(review(seed.deployment("x", "foobar", {}), uid="u1")).get_json()
    assert body["response"] == {"uid": "u1", "allowed": True}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b"{not json", "body is not JSON", id="bad-json"),
        pytest.param(b"\xff\xfe", "body is not JSON", id="not-utf8"),
        pytest.param([], "body is not a JSON object", id="array"),
        pytest.param(
            {"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"}, "expected kind", id="v1beta1"
        ),
        pytest.param({"apiVersion": "admission.k8s.io/v1", "kind": "Pod"}, "expected kind AdmissionReview", id="kind"),
        pytest.param(
            {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}, "request is missing", id="no-request"
        ),
    ],
)
def test_malformed_review_is_a_400_with_a_one_line_reason(body: Any, reason: str) -> None:
    answer = post(body)
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert reason in text
    assert text.count("\n") == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(lambda r: r.pop("uid"), "request.uid", id="missing-uid"),
        pytest.param(lambda r: r.update(uid=""), "request.uid", id="empty-uid"),
        pytest.param(lambda r: r.update(object=None), "request.object", id="missing-object"),
        pytest.param(lambda r: r.update(operation="PATCH"), "request.operation", id="bad-operation"),
        pytest.param(lambda r: r.update(kind="Deployment"), "request.kind", id="kind-not-object"),
        pytest.param(lambda r: r.update(dryRun="yes"), "request.dryRun", id="dry-run-not-bool"),
        pytest.param(lambda r: r.update(namespace=3), "request.namespace", id="namespace-not-string"),
        pytest.param(
            lambda r: r.update(operation="CONNECT", object=True), "request.object", id="connect-object-not-object"
        ),
        pytest.param(lambda r: r.update(oldObject=[1]), "request.oldObject", id="old-object-not-object"),
    ],
)
def test_request_fields_are_checked(change: Any, reason: str) -> None:
    body = review(seed.deployment("appa", "foo", {}))
    change(body["request"])
    answer = post(body)
    assert answer.status_code == 400
    assert reason in answer.get_data(as_text=True)


def test_body_over_the_limit_is_a_413() -> None:
    answer = post(b"x" * 2048, max_body_bytes=1024)
    assert answer.status_code == 413
    assert answer.get_data(as_text=True).count("\n") == 1


def test_unknown_path_and_method_are_plain_errors() -> None:
    test_client = client()
    assert test_client.get("/mutate").status_code == 405
    assert test_client.get("/nope").status_code == 404


def test_health_and_readiness() -> None:
    test_client = client()
    assert test_client.get("/healthz").status_code == 200
    assert test_client.get("/readyz").status_code == 200


class BrokenCluster(MemoryCluster):
    def services(self, namespace: str | None = None) -> list[Service]:
        raise RuntimeError("boom")


def broken() -> BrokenCluster:
    cluster = BrokenCluster()
    cluster.namespaces_by_name = {
        "foo": Namespace("foo", {"nsmigrate.io/migrate-from": "foobar"}),
        "foobar": Namespace("foobar"),
    }
    return cluster


def test_internal_error_with_fail_policy_refuses_and_changes_nothing() -> None:
    answer = post(review(seed.deployment("appa", "foo", {}), uid="u9"), cluster=broken(), failure_policy="Fail")
    assert answer.status_code == 200
    response = answer.get_json()["response"]
    assert response["uid"] == "u9"
    assert response["allowed"] is False
    assert response["status"]["code"] == 500
    assert "patch" not in response


def test_internal_error_with_ignore_policy_admits_unchanged_with_a_warning() -> None:
    answer = post(review(seed.deployment("appa", "foo", {}), uid="u9"), cluster=broken(), failure_policy="Ignore")
    response = answer.get_json()["response"]
    assert response["allowed"] is True
    assert "patch" not in response
    assert "internal error" in response["warnings"][0]


def test_metrics_count_reviews_and_bad_requests() -> None:
    test_client = client()
    test_client.post("/mutate", data=json.dumps(review(seed.deployment("appa", "foo", {"U": "serviceb:80"}))))
    test_client.post("/mutate", data=b"{")
    text = test_client.get("/metrics").get_data(as_text=True)
    assert 'nsmigrate_admission_requests_total{endpoint="mutate",outcome="patched"} 1.0' in text
    assert 'nsmigrate_bad_requests_total{code="400",endpoint="/mutate"} 1.0' in text
    assert "nsmigrate_env_rewrites_total 1.0" in text


def forgery_target() -> MemoryCluster:
    """The issue's forgeries work on this cluster: ``servicez`` in the migrating namespace selects pods of
    a Deployment ``ghost``, and ``foobar/appz`` still calls it by its short name; ``foobar/servicea`` is a
    proxy that ``appc`` calls."""
    return MemoryCluster.of(
        *seed.old_namespace(),
        seed.new_namespace("foo"),
        seed.service("servicez", "foo", "ghost"),
        seed.deployment("appz", "foobar", {"Z_URL": "http://servicez/"}),
    )


def forged(path: str) -> dict[str, Any]:
    """A review nobody but an attacker sent, in the name of alice."""
    if path == "/mutate":
        body = review(seed.deployment("ghost", "foo", {}))
    else:
        body = review(None, operation="DELETE", old=proxy())
    body["request"]["userInfo"] = {"username": "alice@example.com", "groups": ["system:authenticated"]}
    return body


def test_the_forged_reviews_do_have_side_effects_when_the_api_server_sends_them() -> None:
    cluster = forgery_target()
    cluster.add(proxy())
    test_client = client_as(create_app(Settings(), cluster))
    assert test_client.post("/mutate", data=json.dumps(forged("/mutate"))).status_code == 200
    assert [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in cluster.created] == [("foobar", "servicez")]
    validated = test_client.post("/validate", data=json.dumps(forged("/validate"))).get_json()
    assert validated["response"]["allowed"] is False


FORGERIES = [
    pytest.param(None, "no-certificate", id="no-tls"),
    pytest.param(Peer(None), "no-certificate", id="no-certificate"),
    pytest.param(Peer({}), "no-certificate", id="certificate-not-verified"),
    pytest.param(Peer(certificate("system:anonymous")), "subject-not-allowed", id="wrong-common-name"),
    pytest.param(Peer(certificate("x", dns_names=("evil.example",))), "subject-not-allowed", id="wrong-dns-name"),
]


@pytest.mark.parametrize(("peer", "reason"), FORGERIES)
@pytest.mark.parametrize("path", ["/mutate", "/validate"])
def test_a_caller_that_is_not_the_api_server_is_refused_before_any_decision(
    peer: Peer | None, reason: str, path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("DEBUG")
    cluster = forgery_target()
    cluster.add(proxy())
    app = create_app(Settings(), cluster)

    answer = client_as(app, peer).post(path, data=json.dumps(forged(path)), content_type="application/json")

    assert answer.status_code == 403
    assert "AdmissionReview" not in answer.get_data(as_text=True), "no decision"
    assert cluster.created == [], "no write"
    assert app.extensions["nsmigrate.events"].flush()
    assert cluster.events == {}, "no Event"
    assert "alice" not in capsys.readouterr().out, "no log line claiming a user"
    text = client_as(app).get("/metrics").get_data(as_text=True)
    assert f'nsmigrate_requests_refused_total{{reason="{reason}"}} 1.0' in text
    assert "nsmigrate_admission_requests_total{" not in text


def test_an_allowed_dns_name_is_heard_like_the_common_name() -> None:
    app = create_app(Settings(client_subject_names=("webhook-client.example",)), forgery_target())
    peer = Peer(certificate("someone", dns_names=("webhook-client.example",)))
    answer = client_as(app, peer).post("/mutate", data=json.dumps(review(seed.deployment("x", "foo", {}))))
    assert answer.status_code == 200


def test_probes_and_metrics_need_no_certificate() -> None:
    test_client = client_as(create_app(Settings(), forgery_target()), None)
    assert [test_client.get(path).status_code for path in ("/healthz", "/readyz", "/metrics")] == [200, 200, 200]


def test_with_verification_off_any_caller_is_heard() -> None:
    app = create_app(Settings(client_verification=False), forgery_target())
    answer = client_as(app, None).post("/mutate", data=json.dumps(review(seed.deployment("x", "foo", {}))))
    assert answer.status_code == 200
