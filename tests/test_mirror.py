"""The mirror planner: which EndpointSlices a handed-over Service needs, and the writes that get there."""

from __future__ import annotations

import pytest

from tests.handovers import cluster, handed_over, slice_object
from tests.memory import MemoryCluster
from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.core.graph import call_graph
from webhook.core.mirror import MAX_ENDPOINTS, MirrorAction, desired_slices, map_ports, plan_mirror
from webhook.core.objects import Service, ServicePort
from webhook.core.render import mermaid
from webhook.core.settings import Settings
from webhook.core.slices import Endpoint, EndpointSlice, SlicePort
from webhook.kube.cache import Cache
from webhook.runtime import controllers

SETTINGS = Settings()


def port(number: int, name: str | None = None, target: int | str | None = None) -> ServicePort:
    return ServicePort(number, name=name, target_port=target)


def new_slice(
    *endpoints: Endpoint, ports: tuple[SlicePort, ...] = (SlicePort("http", 8080),), name: str = "s1"
) -> EndpointSlice:
    return EndpointSlice("foo", name, "servicea", labels.SLICE_CONTROLLER, "IPv4", ports, endpoints)


def ready(ip: str, **fields: object) -> Endpoint:
    return Endpoint((ip,), **fields)  # type: ignore[arg-type]


OLD = Service("foobar", "servicea", ports=(port(80, "http", 8080),), uid="uid-old", cluster_ip="10.0.0.10")
NEW = Service("foo", "servicea", selector={"app": "appa"}, ports=(port(8080, "http", 8080),))


@pytest.mark.parametrize(
    ("old_ports", "new_ports", "expected"),
    [
        pytest.param((port(80, "http", 8080),), (port(8080, "http", 8080),), ["http"], id="by-name"),
        pytest.param((port(80, None, 8080),), (port(80, "web", 9000),), ["web"], id="by-number"),
        pytest.param((port(80, None, 8080),), (port(8080, "api", "api"),), ["api"], id="by-old-target-port"),
        pytest.param((port(80, "a"),), (port(9000, "b"),), ["b"], id="the-only-port"),
    ],
)
def test_each_old_port_finds_the_new_port_that_serves_it(
    old_ports: tuple[ServicePort, ...], new_ports: tuple[ServicePort, ...], expected: list[str]
) -> None:
    mapping, problems = map_ports(Service("foobar", "s", ports=old_ports), Service("foo", "s", ports=new_ports))
    assert [m.new_name for m in mapping] == expected
    assert problems == []


def test_a_port_the_new_side_cannot_serve_is_a_refusal_with_a_reason() -> None:
    old = Service("foobar", "api", ports=(port(80, "http"), port(9090, "metrics")))
    new = Service("foo", "api", ports=(port(80, "http"), port(443, "https")))
    _, problems = map_ports(old, new)
    assert problems == ["port 9090/TCP (metrics) of foobar/api has no counterpart in foo/api"]


def test_ready_endpoints_are_mirrored_with_the_old_port_name_and_the_number_the_new_pods_serve() -> None:
    (wanted,) = desired_slices(OLD, NEW, [new_slice(ready("10.1.0.1"), ready("10.1.0.2", ready=False))])
    assert (wanted.namespace, wanted.service) == ("foobar", "servicea")
    assert wanted.ports == (SlicePort("http", 8080, "TCP"),)
    assert [e.addresses for e in wanted.endpoints] == [("10.1.0.1",)]


def test_a_named_target_port_is_resolved_per_slice_from_the_new_slices() -> None:
    new = Service("foo", "servicea", ports=(port(80, "http", "web"),))
    slices = [
        new_slice(ready("10.1.0.1"), ports=(SlicePort("http", 8080),), name="a"),
        new_slice(ready("10.1.0.2"), ports=(SlicePort("http", 9090),), name="b"),
    ]
    wanted = desired_slices(OLD, new, slices)
    assert sorted((w.ports[0].port, w.endpoints[0].addresses[0]) for w in wanted) == [
        (8080, "10.1.0.1"),
        (9090, "10.1.0.2"),
    ]


def test_pod_hostnames_and_address_families_are_kept_and_fqdn_slices_skipped() -> None:
    v6 = EndpointSlice("foo", "v6", "servicea", "", "IPv6", (SlicePort("http", 8080),), (ready("fd00::1"),))
    fqdn = EndpointSlice("foo", "f", "servicea", "", "FQDN", (SlicePort("http", 8080),), (ready("example.com"),))
    pod = ready("10.1.0.1", hostname="db-0", pod=("foo", "db-0"))
    wanted = desired_slices(OLD, NEW, [new_slice(pod), v6, fqdn])
    assert [(w.address_type, w.endpoints[0].addresses) for w in wanted] == [
        ("IPv4", ("10.1.0.1",)),
        ("IPv6", ("fd00::1",)),
    ]
    assert wanted[0].endpoints[0].hostname == "db-0"


def test_slices_hold_at_most_a_hundred_endpoints() -> None:
    many = [ready(f"10.1.{i // 250}.{i % 250}") for i in range(250)]
    wanted = desired_slices(OLD, NEW, [new_slice(*many)])
    assert [len(w.endpoints) for w in wanted] == [MAX_ENDPOINTS, MAX_ENDPOINTS, 50]
    assert len({w.name for w in wanted}) == 3


def of_kind(actions: list[MirrorAction], kind: str = "EndpointSlice") -> list[MirrorAction]:
    return [action for action in actions if action.kind == kind]


def test_a_handed_over_service_gets_its_mirrored_slice_owned_by_it() -> None:
    plan = plan_mirror(cluster(slice_object("foobar", "servicea-old", labels.SLICE_CONTROLLER, "10.2.0.1")), SETTINGS)
    (create,) = of_kind(plan.actions)  # the endpoint controller's slice stays until ours exists
    assert create.verb == "create"
    manifest = create.body
    assert manifest["metadata"]["labels"] == {
        labels.SERVICE_NAME: "servicea",
        labels.SLICE_MANAGED_BY: labels.SLICE_MANAGER,
        labels.MANAGED_BY: labels.MANAGER,
    }
    assert manifest["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Service", "name": "servicea", "uid": "uid-old"}
    ]
    assert manifest["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert manifest["endpoints"][0]["addresses"] == ["10.1.0.1"]


def test_once_ours_is_complete_the_endpoint_controllers_leftover_goes_and_nothing_else_is_written() -> None:
    first = cluster(slice_object("foobar", "servicea-old", labels.SLICE_CONTROLLER, "10.2.0.1"))
    (create, apply) = plan_mirror(first, SETTINGS).actions
    leftover = slice_object("foobar", "servicea-old", labels.SLICE_CONTROLLER, "10.2.0.1")
    settled = cluster(leftover, create.body, apply.body)
    assert [(a.verb, a.name) for a in plan_mirror(settled, SETTINGS).actions] == [("delete", "servicea-old")]
    assert plan_mirror(cluster(create.body, apply.body), SETTINGS).actions == []


def test_a_pod_leaving_the_new_side_is_an_update_of_our_slice() -> None:
    (create, apply) = plan_mirror(cluster(), SETTINGS).actions
    stale = {**create.body, "endpoints": [*create.body["endpoints"], {"addresses": ["10.1.0.9"]}]}
    (update,) = plan_mirror(cluster(stale, apply.body), SETTINGS).actions
    assert update.verb == "update"
    assert [e["addresses"] for e in update.body["endpoints"]] == [["10.1.0.1"]]


def test_target_gone_freezes_the_endpoints_and_says_so() -> None:
    view = cluster()
    view.service_records = [s for s in view.service_records if s.namespace != "foo"]
    plan = plan_mirror(view, SETTINGS)
    assert plan.actions == []
    (note,) = plan.notes
    assert note.kind == "target missing"
    assert "foo/servicea, which is gone" in note.message


def test_selector_put_back_by_an_owner_stops_the_mirror_and_removes_our_slices() -> None:
    ours = slice_object("foobar", "servicea-nsmigrate-x", labels.SLICE_MANAGER, "10.1.0.1")
    plan = plan_mirror(cluster(ours, old=handed_over(selector={"app": "appa"})), SETTINGS)
    assert [(a.verb, a.name) for a in plan.actions] == [("delete", "servicea-nsmigrate-x")]
    assert [n.kind for n in plan.notes] == ["selector restored"]


def test_no_mirror_without_the_consent_of_the_old_namespace() -> None:
    view = cluster()
    view.add({"kind": "Namespace", "metadata": {"name": "foobar"}})
    plan = plan_mirror(view, SETTINGS)
    assert plan.actions == []
    assert [n.kind for n in plan.notes] == ["no consent"]


def test_a_service_that_was_not_handed_over_is_never_mirrored() -> None:
    plain = {
        "kind": "Service",
        "metadata": {"name": "servicea", "namespace": "foobar"},
        "spec": {"selector": {"a": "b"}},
    }
    assert plan_mirror(cluster(old=plain), SETTINGS).actions == []


def test_the_controller_writes_only_as_leader_and_says_each_warning_once() -> None:
    view = cluster()
    view.service_records = [s for s in view.service_records if s.namespace != "foo"]  # target gone
    view.add(slice_object("foobar", "servicea-nsmigrate-x", labels.SLICE_MANAGER, "10.1.0.1"))
    written: list[MirrorAction] = []
    events: list[JsonObject] = []
    leader = False
    loop, mirror = controllers.mirror(
        view, SETTINGS, write=written.append, record_event=events.append, is_leader=lambda: leader
    )
    assert loop.step() is None
    leader = True
    loop.step()
    loop.step()
    assert written == []  # frozen: nothing to write without a target
    (event,) = events
    assert (event["reason"], event["type"], event["involvedObject"]["uid"]) == (
        "HandoverTargetMissing",
        "Warning",
        "uid-old",
    )
    assert mirror.stats.notes == {"target missing": 1}


def test_the_controller_carries_out_the_plan() -> None:
    written: list[MirrorAction] = []
    loop, mirror = controllers.mirror(
        cluster(), SETTINGS, write=written.append, record_event=lambda _: None, is_leader=lambda: True
    )
    assert loop.step() == written
    assert [(a.kind, a.verb, a.namespace) for a in written] == [
        ("EndpointSlice", "create", "foobar"),
        ("Endpoints", "apply", "foobar"),
    ]
    assert (mirror.stats.passes, mirror.stats.mirrored) == (1, 1)


def test_the_watch_cache_keeps_endpointslices_by_service() -> None:
    cache = Cache(MemoryCluster(), kinds=["EndpointSlice"])
    cache.replace("EndpointSlice", [slice_object("foo", "servicea-abc", labels.SLICE_CONTROLLER, "10.1.0.1")])
    cache.apply("EndpointSlice", "ADDED", slice_object("foo", "servicea-def", labels.SLICE_CONTROLLER, "10.1.0.2"))
    found = cache.endpoint_slices("foo", "servicea")
    assert [(s.name, s.endpoints[0].addresses) for s in found] == [
        ("servicea-abc", ("10.1.0.1",)),
        ("servicea-def", ("10.1.0.2",)),
    ]
    cache.apply("EndpointSlice", "DELETED", slice_object("foo", "servicea-abc", labels.SLICE_CONTROLLER))
    assert [s.name for s in cache.endpoint_slices("foo", "servicea")] == ["servicea-def"]
    assert cache.endpoint_slices("foo", "other") == []


def test_mirrored_slices_go_once_a_service_that_is_no_longer_handed_over_is_served_by_kubernetes_again() -> None:
    restored = {
        "kind": "Service",
        "metadata": {"name": "servicea", "namespace": "foobar"},
        "spec": {"selector": {"app": "x"}},
    }
    ours = slice_object("foobar", "servicea-nsmigrate-x", labels.SLICE_MANAGER, "10.1.0.1")
    assert plan_mirror(cluster(ours, old=restored), SETTINGS).actions == []  # ours serve until theirs exist
    theirs = slice_object("foobar", "servicea-k8s", labels.SLICE_CONTROLLER, "10.2.0.1")
    (delete,) = plan_mirror(cluster(ours, theirs, old=restored), SETTINGS).actions
    assert (delete.verb, delete.name) == ("delete", "servicea-nsmigrate-x")


def test_the_call_graph_draws_a_handed_over_service_as_mirrored() -> None:
    graph = call_graph(cluster(), SETTINGS, namespaces=["foobar", "foo"])
    assert graph.mirrored == {"foobar/service servicea"}
    assert '{{"service servicea (mirrored)"}}' in mermaid(graph)
