import json

from tests.memory import MemoryCluster
from webhook.core import audit, graph, render
from webhook.core.settings import Settings
from webhook.dev import seed

SETTINGS = Settings()


def test_the_call_graph_of_the_seed_draws_who_calls_whom() -> None:
    cluster = MemoryCluster.of(*seed.old_namespace())
    drawn = graph.call_graph(cluster, SETTINGS, namespaces=["foobar"])
    assert {(edge.caller, edge.service) for edge in drawn.edges} >= {
        ("foobar/deployment appa", "foobar/service serviceb"),
        ("foobar/deployment appc", "foobar/service servicea"),
    }
    assert "appa" in render.mermaid(drawn)
    assert render.dot(drawn).startswith("digraph")


def test_the_call_graph_draws_pod_name_and_argument_callers_to_their_service() -> None:
    caller = seed.deployment("reader", "foobar", {"BROKERS": "kafka-0.kafka:9092"})
    caller["spec"]["template"]["spec"]["containers"][0]["args"] = ["--upstream", "serviceb"]
    cluster = MemoryCluster.of(*seed.old_namespace(), seed.service("kafka", "foobar", "kafka"), caller)
    drawn = graph.call_graph(cluster, SETTINGS, namespaces=["foobar"])
    assert {edge.service for edge in drawn.edges if edge.caller == "foobar/deployment reader"} == {
        "foobar/service kafka",
        "foobar/service serviceb",
    }


def test_audit_entries_come_from_events_and_log_lines_newest_first() -> None:
    events = [
        {"reason": "ProxyDeletionDenied", "lastTimestamp": "2026-11-27T07:00:00Z",
         "involvedObject": {"namespace": "foobar", "name": "servicea"}, "message": "refused"},
        {"reason": "Scheduled", "lastTimestamp": "2026-11-27T08:00:00Z", "involvedObject": {}},
        {"reason": "ProxyDeletionForced", "lastTimestamp": "2026-11-27T09:00:00Z",
         "involvedObject": {"namespace": "foobar", "name": "serviceb"}},
    ]  # fmt: skip
    entries = audit.audit_from_events(events)
    assert [(e["event"], e["proxy"]) for e in entries] == [
        ("proxy_deletion_forced", "foobar/serviceb"),
        ("proxy_deletion_denied", "foobar/servicea"),
    ]
    lines = ["not json", json.dumps({"event": "proxy_deletion_denied", "proxy": "foobar/servicea", "time": "t1"}), "{}"]
    assert [e["source"] for e in audit.audit_from_log(lines)] == ["log"]


def test_a_table_reads_like_kubectls() -> None:
    assert render.table(["NAME", "TARGET"], [["servicea", "foo/servicea"]]) == (
        "NAME       TARGET\nservicea   foo/servicea"
    )
    assert render.table(["NAME"], []) == "No resources found."
