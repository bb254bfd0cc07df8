"""Who else reads a moved Service: Ingresses and Gateway routes, monitors, meshes; and what breaks."""

from __future__ import annotations

from dataclasses import replace

from tests.handovers import cluster
from tests.memory import MemoryCluster
from webhook.core import labels
from webhook.core.consumers import (
    backends_from_object,
    grant_from_object,
    judge_backends,
    judge_monitors,
    mesh_consumers,
    mesh_of,
    monitor_from_object,
    users_of,
)
from webhook.core.fields import JsonObject
from webhook.core.handover import finalize_problems

INGRESS: JsonObject = {
    "kind": "Ingress",
    "metadata": {"name": "web", "namespace": "foobar"},
    "spec": {
        "ingressClassName": "nginx",
        "rules": [
            {"http": {"paths": [{"path": "/", "backend": {"service": {"name": "servicea", "port": {"number": 80}}}}]}}
        ],
    },
}


def route(namespace: str, backend_namespace: str, kind: str = "HTTPRoute") -> JsonObject:
    ref = {"name": "servicea", "namespace": backend_namespace, "port": 8080}
    return {
        "kind": kind,
        "metadata": {"name": "r", "namespace": namespace},
        "spec": {"rules": [{"backendRefs": [ref]}]},
    }


def test_an_ingress_of_a_handed_over_service_is_named_and_keeps_finalize_away() -> None:
    routes = [backends_from_object(INGRESS)]
    consumers, findings = judge_backends(cluster(), routes, [])
    assert [(c.object, c.service) for c in consumers] == [("ingress foobar/web", "foobar/servicea")]
    assert "finalize is refused" in consumers[0].note
    assert findings == []
    assert users_of(routes, "foobar", "servicea") == ["ingress foobar/web"]


def test_finalize_is_refused_while_a_route_uses_the_service() -> None:
    view = cluster()
    service, target = view.service("foobar", "servicea"), view.service("foo", "servicea")
    assert service is not None
    problems = finalize_problems(service, target, pod_names=False, routed_by=["ingress foobar/web"])
    assert any(p.startswith("ingress foobar/web send(s) to it") for p in problems)


def test_an_ingress_whose_backend_became_externalname_is_a_finding() -> None:
    view = cluster()
    view.service_records = [
        replace(s, type="ExternalName") if s.namespace == "foobar" else s for s in view.service_records
    ]
    _, findings = judge_backends(view, [backends_from_object(INGRESS)], [])
    (finding,) = findings
    assert (finding.reason, finding.object) == ("IngressBackendExternalName", "ingress foobar/web")
    assert "ExternalName" in finding.message


def test_a_route_in_a_third_namespace_to_the_new_service_needs_a_reference_grant() -> None:
    routes = [backends_from_object(route("gateways", "foo"))]
    consumers, findings = judge_backends(cluster(), routes, [])
    assert [f.object for f in findings] == ["httproute gateways/r"]
    assert "no ReferenceGrant" in findings[0].message
    grant = grant_from_object(
        {
            "kind": "ReferenceGrant",
            "metadata": {"name": "g", "namespace": "foo"},
            "spec": {
                "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "gateways"}],
                "to": [{"group": "", "kind": "Service"}],
            },
        }
    )
    assert judge_backends(cluster(), routes, [grant])[1] == []
    assert consumers


def test_a_service_monitor_of_the_handed_over_service_keeps_its_targets() -> None:
    view = cluster()
    view.service_records = [replace(s, labels={**s.labels, "team": "a"}) for s in view.service_records]
    monitor = monitor_from_object(
        {
            "kind": "ServiceMonitor",
            "metadata": {"name": "m", "namespace": "foobar"},
            "spec": {"selector": {"matchLabels": {"team": "a"}}},
        }
    )
    (consumer,) = judge_monitors(view, [monitor])
    assert consumer.object == "servicemonitor foobar/m"
    assert "targets keep coming" in consumer.note


def test_a_pod_monitor_limited_to_the_old_namespace_loses_the_moved_pods() -> None:
    view = cluster(
        {
            "kind": "Deployment",
            "metadata": {"name": "appa", "namespace": "foo"},
            "spec": {"template": {"metadata": {"labels": {"app": "appa"}}}},
        }
    )
    monitor = monitor_from_object(
        {"kind": "PodMonitor", "metadata": {"name": "pm", "namespace": "monitoring"},
         "spec": {"namespaceSelector": {"matchNames": ["foobar"]}, "podSelector": {"matchLabels": {"app": "appa"}}}}
    )  # fmt: skip
    (consumer,) = judge_monitors(view, [monitor])
    assert "are lost; add foo to its namespaceSelector" in consumer.note


def test_meshes_are_named_with_their_caveat() -> None:
    assert mesh_of({"istio.io/dataplane-mode": "ambient"}) == "Istio ambient"
    assert mesh_of({"istio-injection": "enabled"}) == "Istio sidecars"
    assert mesh_of({}, {"linkerd.io/inject": "enabled"}) == "Linkerd"
    assert mesh_of({"istio-injection": "disabled"}) == ""
    view = MemoryCluster.of(
        {"kind": "Namespace", "metadata": {"name": "foobar", "labels": {"istio.io/dataplane-mode": "ambient"}}},
        {"kind": "Namespace", "metadata": {"name": "foo", "labels": {labels.MIGRATE_FROM: "foobar"}}},
    )
    (consumer,) = mesh_consumers(view, {})
    assert consumer.object == "namespace foobar"
    assert "ignore hand-written slices" in consumer.note


def test_an_externalname_backend_is_judged_by_the_ingress_class() -> None:
    view = cluster()
    view.service_records = [
        replace(s, type="ExternalName") if s.namespace == "foobar" else s for s in view.service_records
    ]
    contour = {**INGRESS, "spec": {**INGRESS["spec"], "ingressClassName": "contour"}}
    (finding,) = judge_backends(view, [backends_from_object(contour)], [])[1]
    assert "ingress class contour: Contour refuses ExternalName backends" in finding.message
    (nginx,) = judge_backends(view, [backends_from_object(INGRESS)], [])[1]
    assert "check class nginx" in nginx.message
