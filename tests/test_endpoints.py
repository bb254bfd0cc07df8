"""The mirrored v1 Endpoints of a handed-over Service: same addresses and ports as its mirrored slices,
labelled so that Kubernetes does not mirror it back, capped as Kubernetes caps it, removed when the
Service is Kubernetes' again."""

from __future__ import annotations

from typing import Any

from tests.handovers import cluster, handed_over, slice_object
from webhook.core import labels
from webhook.core.endpoints import (
    MAX_ADDRESSES,
    OVER_CAPACITY,
    SKIP_MIRROR,
    desired_endpoints,
    endpoints_from_object,
    endpoints_manifest,
    same_content,
)
from webhook.core.mirror import plan_mirror
from webhook.core.settings import Settings
from webhook.core.slices import Endpoint, EndpointSlice, SlicePort

SETTINGS = Settings()


def endpoints_apply(view: Any) -> dict[str, Any]:
    (apply,) = [a for a in plan_mirror(view, SETTINGS).actions if a.kind == "Endpoints"]
    assert apply.verb == "apply"
    body: dict[str, Any] = apply.body
    return body


def test_a_handed_over_service_gets_endpoints_with_the_mirrored_addresses_and_the_old_port_names() -> None:
    body = endpoints_apply(cluster())
    assert body["metadata"]["name"] == "servicea"
    assert body["metadata"]["namespace"] == "foobar"
    assert body["metadata"]["labels"][SKIP_MIRROR] == "true"  # no duplicate slices from Kubernetes' mirroring
    assert body["metadata"]["labels"][labels.PROXY] == "true"
    assert body["metadata"]["annotations"] == {labels.PROXY_FOR: "foo/servicea"}
    assert body["subsets"] == [
        {"addresses": [{"ip": "10.1.0.1"}], "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}
    ]


def test_endpoints_already_equal_are_not_written_again_whatever_order_the_api_server_keeps() -> None:
    two = slice_object("foo", "servicea-abc", labels.SLICE_CONTROLLER, "10.1.0.2", "10.1.0.1")
    view = cluster(two)
    body = endpoints_apply(view)
    body["subsets"][0]["addresses"].reverse()
    settled = cluster(two, *[a.body for a in plan_mirror(view, SETTINGS).actions if a.kind == "EndpointSlice"], body)
    assert [a for a in plan_mirror(settled, SETTINGS).actions if a.kind == "Endpoints"] == []


def test_a_pod_added_on_the_new_side_is_written_to_the_endpoints() -> None:
    stale = endpoints_apply(cluster())
    grown = cluster(slice_object("foo", "servicea-def", labels.SLICE_CONTROLLER, "10.1.0.7"), stale)
    assert [a["ip"] for a in endpoints_apply(grown)["subsets"][0]["addresses"]] == ["10.1.0.1", "10.1.0.7"]


def test_hostnames_and_pods_are_kept_so_pod_dns_names_and_target_refs_survive() -> None:
    served = EndpointSlice(
        "foobar",
        "s",
        "db",
        labels.SLICE_MANAGER,
        ports=(SlicePort("pg", 5432),),
        endpoints=(Endpoint(("10.1.0.3",), hostname="db-0", node_name="n1", pod=("foo", "db-0")),),
    )
    manifest = endpoints_manifest(desired_endpoints("foobar", "db", [served]), target="foo/db")
    assert manifest["subsets"][0]["addresses"] == [
        {
            "ip": "10.1.0.3",
            "hostname": "db-0",
            "nodeName": "n1",
            "targetRef": {"kind": "Pod", "namespace": "foo", "name": "db-0"},
        }
    ]


def test_past_a_thousand_addresses_the_first_are_kept_and_the_object_says_truncated() -> None:
    many = tuple(Endpoint((f"10.{i // 250}.{i % 250}.1",)) for i in range(1200))
    slices = [EndpointSlice("foobar", "s", "big", labels.SLICE_MANAGER, ports=(SlicePort("http", 80),), endpoints=many)]
    desired = desired_endpoints("foobar", "big", slices)
    assert len(desired.addresses) == MAX_ADDRESSES
    assert desired.addresses == sorted(ip for e in many for ip in e.addresses)[:MAX_ADDRESSES]
    manifest = endpoints_manifest(desired, target="foo/big")
    assert manifest["metadata"]["annotations"][OVER_CAPACITY] == "truncated"
    assert same_content(endpoints_from_object(manifest), desired)


def test_a_rolled_back_service_loses_the_mirrored_endpoints_once_kubernetes_serves_it_again() -> None:
    ours = {**endpoints_apply(cluster()), "kind": "Endpoints"}
    ours["metadata"] = {**ours["metadata"], "uid": "uid-ep"}
    restored = {**handed_over(selector={"app": "appa"}), "metadata": {"name": "servicea", "namespace": "foobar"}}
    served = slice_object("foobar", "servicea-k8s", labels.SLICE_CONTROLLER, "10.2.0.1")
    actions = plan_mirror(cluster(ours, served, old=restored), SETTINGS).actions
    assert [(a.kind, a.verb, a.body) for a in actions] == [("Endpoints", "delete", {"uid": "uid-ep"})]
    waiting = plan_mirror(cluster(ours, old=restored), SETTINGS).actions
    assert waiting == []  # until the endpoint controller serves it, the mirror keeps serving


def test_the_endpoint_controllers_own_endpoints_are_never_deleted() -> None:
    theirs = endpoints_from_object(
        {"metadata": {"name": "a", "namespace": "b", "labels": {labels.PROXY: "true"}}, "subsets": []}
    )
    assert not theirs.ours


def test_odd_endpoints_objects_are_read_without_error() -> None:
    odd = endpoints_from_object(
        {"metadata": {"name": "x"}, "subsets": [{"addresses": "no", "ports": [{"port": "80"}]}, 7]}
    )
    assert (odd.name, odd.subsets[0].addresses, odd.subsets[0].ports) == ("x", (), ())
