import json
from typing import Any

import pytest

from tests.memory import MemoryCluster
from tests.peers import client_as
from tests.proxies import appc, cluster, proxy
from tests.reviews import review
from webhook.core import labels, logs
from webhook.core.settings import Settings
from webhook.http.app import create_app
from webhook.http.events import EventRecorder


def delete(memory: MemoryCluster, obj: dict[str, Any], **kwargs: Any) -> tuple[dict[str, Any], EventRecorder]:
    app = create_app(Settings(), memory)
    body = review(None, operation="DELETE", old=obj, uid="uid-1", **kwargs)
    answer = client_as(app).post("/validate", data=json.dumps(body), content_type="application/json")
    assert answer.status_code == 200
    recorder: EventRecorder = app.extensions["nsmigrate.events"]
    assert recorder.flush()
    return answer.get_json()["response"], recorder


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


@pytest.fixture(autouse=True)
def json_logs() -> None:
    logs.configure("INFO")


def test_denial_answers_403_with_the_callers_and_audit_annotations() -> None:
    response, _ = delete(cluster(appc()), proxy())
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    assert "deployment foobar/appc (env SERVICEA_URL)" in response["status"]["message"]
    assert response["auditAnnotations"] == {
        "proxy-deletion": "denied",
        "proxy": "foobar/servicea",
        "callers": "deployment foobar/appc (env SERVICEA_URL)",
    }


def test_denial_leaves_a_json_log_line(capsys: pytest.CaptureFixture[str]) -> None:
    delete(cluster(appc()), proxy(), dry_run=True)
    (line,) = [line for line in log_lines(capsys) if line.get("event") == "proxy_deletion_denied"]
    assert line["proxy"] == "foobar/servicea"
    assert line["user"] == "alice"
    assert line["groups"] == ["system:authenticated"]
    assert line["callers"] == ["deployment foobar/appc (env SERVICEA_URL)"]
    assert line["dryRun"] is True
    assert line["uid"] == "uid-1"
    assert line["time"]


def test_denial_leaves_a_warning_event_on_the_proxy_and_repeats_aggregate() -> None:
    memory = cluster(appc())
    delete(memory, proxy())
    delete(memory, proxy())
    (event,) = memory.events.values()
    assert event["type"] == "Warning"
    assert event["reason"] == "ProxyDeletionDenied"
    assert event["involvedObject"]["name"] == "servicea"
    assert event["count"] == 2


def test_failing_event_write_does_not_change_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    memory = cluster(appc())
    memory.fail_writes = ConnectionError("API server unreachable")
    response, _ = delete(memory, proxy())
    assert response["allowed"] is False
    assert any("cannot write event" in line.get("message", "") for line in log_lines(capsys))


def test_forced_deletion_is_allowed_and_audited(capsys: pytest.CaptureFixture[str]) -> None:
    memory = cluster(appc())
    response, _ = delete(memory, proxy(**{labels.ALLOW_DELETE: "true"}))
    assert response["allowed"] is True
    assert response["auditAnnotations"]["proxy-deletion"] == "forced"
    assert [e["reason"] for e in memory.events.values()] == ["ProxyDeletionForced"]
    assert [line["event"] for line in log_lines(capsys) if "event" in line] == ["proxy_deletion_forced"]


def test_allowed_deletion_leaves_no_trail(capsys: pytest.CaptureFixture[str]) -> None:
    memory = cluster()
    response, _ = delete(memory, proxy())
    assert response == {"uid": "uid-1", "allowed": True}
    assert memory.events == {}
    assert [line for line in log_lines(capsys) if "event" in line] == []


def test_metrics_count_denied_and_forced_deletions() -> None:
    memory = cluster(appc())
    app = create_app(Settings(), memory)
    for obj in (proxy(), proxy(), proxy(**{labels.ALLOW_DELETE: "true"})):
        body = review(None, operation="DELETE", old=obj)
        client_as(app).post("/validate", data=json.dumps(body))
    text = client_as(app).get("/metrics").get_data(as_text=True)
    assert 'nsmigrate_proxy_deletions_denied_total{namespace="foobar"} 2.0' in text
    assert 'nsmigrate_proxy_deletions_forced_total{namespace="foobar"} 1.0' in text
