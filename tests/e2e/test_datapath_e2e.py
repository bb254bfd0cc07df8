"""Zero failed requests, measured on a real data path: kube-proxy, in a network namespace of the test's
own, routes cluster IPs to servers standing in for the kwok pods (``tests.e2e.datapath``), while
clients call through every step of a migration."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.datapath import (
    DataPath,
    EndpointsReader,
    KeepAlive,
    Load,
    Request,
    ask,
    every_lookup,
    resolved_once,
)
from tests.e2e.helpers import eventually, slice_addresses
from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.dev import seed
from webhook.dev.environment import DevEnvironment
from webhook.kube.client import Kube, path_of

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kube(full: DevEnvironment) -> Kube:
    return Kube.connect(str(full.kubeconfig))


@pytest.fixture(scope="module")
def datapath(full: DevEnvironment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataPath]:
    """kube-proxy and the pods' servers; a set-up that fails is an error of every test here, never a skip."""
    with DataPath(full, workdir=Path(tmp_path_factory.mktemp("datapath"))) as path:
        yield path


def deployment(name: str, namespace: str, *, app: str, replicas: int = 2) -> JsonObject:
    """A Deployment whose pods declare port 8080 ("http"): what the data path serves for them."""
    manifest = seed.deployment(name, namespace, {})
    manifest["spec"]["replicas"] = replicas
    manifest["spec"]["selector"]["matchLabels"] = {"app": app}
    manifest["spec"]["template"]["metadata"]["labels"] = {"app": app}
    manifest["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8080}]
    return manifest


def service(name: str, namespace: str, *, app: str) -> JsonObject:
    manifest = seed.service(name, namespace, app)
    manifest["spec"]["ports"][0]["targetPort"] = "http"
    return manifest


def served_pods(datapath: DataPath, namespace: str, prefix: str = "") -> set[str]:
    return {pod for pod in datapath.serving().values() if pod.startswith(f"{namespace}/{prefix}")}


def running_pods(kube: Kube, namespace: str, app: str, *, count: int) -> set[str] | None:
    """The Running pods ("namespace/name") labelled ``app=<app>``, once there are ``count`` of them."""
    found = {
        f"{namespace}/{pod['metadata']['name']}"
        for pod in kube.list_all("Pod", namespace)
        if pod["metadata"].get("labels", {}).get("app") == app and pod.get("status", {}).get("phase") == "Running"
    }
    return found if len(found) == count else None


def answers(datapath: DataPath, request: Request, count: int) -> list[str] | None:
    """``count`` answers in a row from inside the namespace, or None if one request failed."""
    try:
        return [datapath.run_inside(request) for _ in range(count)]
    except OSError:
        return None


def test_kube_proxy_routes_cluster_ip_to_fake_pods(datapath: DataPath, kube: Kube) -> None:
    namespace = "dp-route"
    for manifest in (
        seed.namespace(namespace),
        deployment("blue", namespace, app="blue"),
        deployment("green", namespace, app="green", replicas=1),
        service("web", namespace, app="blue"),
    ):
        kube.apply(manifest)
    blue = eventually(lambda: running_pods(kube, namespace, "blue", count=2), timeout=60)
    green = eventually(lambda: running_pods(kube, namespace, "green", count=1), timeout=60)
    eventually(lambda: served_pods(datapath, namespace) >= blue | green, timeout=30)
    cluster_ip = (kube.get("Service", namespace, "web") or {})["spec"]["clusterIP"]
    to_web = ask(cluster_ip, 80)

    seen: set[str] = set()

    def every_blue_pod_answered() -> bool:
        seen.update(answers(datapath, to_web, 10) or ())
        return seen >= blue

    eventually(every_blue_pod_answered, timeout=30)
    assert seen == blue  # through the cluster IP, to the pods the selector names, and to those only

    kube.apply(service("web", namespace, app="green"))
    eventually(lambda: set(answers(datapath, to_web, 20) or ()) == green, timeout=30)

    unused = "10.111.111.111"  # in the service range, no Service: kube-proxy has no rule, nothing answers
    assert all(s["spec"].get("clusterIP") != unused for s in kube.list_all("Service"))
    with pytest.raises(TimeoutError):
        datapath.run_inside(ask(unused, 80, timeout=1))
    assert datapath.failures == []
    print(f"kube-proxy ({datapath.mode}) routed {cluster_ip}:80 to {sorted(blue)}, then to {sorted(green)}")


def handed_over(kube: Kube, namespace: str, name: str) -> bool:
    """The old Service has given up its selector: its endpoints now come from the new side."""
    return not (kube.get("Service", namespace, name) or {}).get("spec", {}).get("selector")


def retire(kube: Kube, kind: str, namespace: str, name: str) -> None:
    """As a migration ends: scale the old workload to zero, wait for its pods to go, delete it."""
    kube.request(
        "PATCH", path_of(kind, namespace, name), body={"spec": {"replicas": 0}},
        content_type="application/merge-patch+json",
    )  # fmt: skip

    def gone() -> bool:
        return not any(pod["metadata"]["labels"].get("app") == name for pod in kube.list_all("Pod", namespace))

    eventually(gone, timeout=60)
    kube.delete(kind, namespace, name)


def application(namespace: str) -> list[JsonObject]:
    """``app`` (a Deployment of two behind a Service, port 80 -> "http") and ``db`` (a StatefulSet of
    one behind a headless Service, its pod known as ``db-0.db``)."""
    database = deployment("db", namespace, app="db", replicas=1)
    database["kind"] = "StatefulSet"
    database["spec"] |= {"serviceName": "db", "podManagementPolicy": "Parallel"}
    headless = service("db", namespace, app="db")
    headless["spec"] |= {"clusterIP": "None", "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}
    return [service("app", namespace, app="app"), deployment("app", namespace, app="app"), headless, database]


def test_no_request_fails_through_kube_proxy_during_a_migration(datapath: DataPath, kube: Kube) -> None:
    """app and db move: deployed in the new namespace, handed over automatically once Available, the
    old workloads scaled to zero and deleted; five kinds of client call the old names all along, one of
    them through the Endpoints API as an older ingress controller does."""
    old, new = "dp-old", "dp-new"
    for manifest in [seed.namespace(old, {labels.SOURCE: "true"}), *application(old), seed.new_namespace(new, old=old)]:
        kube.apply(manifest)
    eventually(lambda: len(served_pods(datapath, old)) == 3, timeout=60)
    before = (kube.get("Service", old, "app") or {})["spec"]
    clients: dict[str, Request] = {
        "resolves every request": every_lookup(datapath, host="app", namespace=old, port=80),
        "resolved once, keeps the IP": resolved_once(datapath, host="app", namespace=old, port=80),
        "keep-alive connection": (keep_alive := KeepAlive(datapath, host="app", namespace=old, port=80)),
        "pod name db-0.db": every_lookup(datapath, host="db-0.db", namespace=old, port=8080),
        "Endpoints API reader (an older ingress controller)": EndpointsReader(datapath, namespace=old, name="app"),
    }
    for request in clients.values():  # kube-proxy and CoreDNS have caught up with the old side
        eventually(functools.partial(answers, datapath, request, 1), timeout=30)

    load = Load(datapath, clients)
    try:
        with load:
            load.wait_for(100)
            for manifest in application(new):
                kube.apply(manifest)
            eventually(lambda: handed_over(kube, old, "app") and handed_over(kube, old, "db"), timeout=90)
            load.wait_for(100)
            retire(kube, "Deployment", old, "app")
            retire(kube, "StatefulSet", old, "db")
            eventually(lambda: not served_pods(datapath, old), timeout=60)  # the old pods have drained
            load.wait_for(200)
    finally:
        print(f"\ndata path, kube-proxy in {datapath.mode} mode, clients ran {load.seconds:.1f} s:")
        for kind, tally in load.tallies.items():
            new_side = sum(count for pod, count in tally.answers.items() if pod.startswith(f"{new}/"))
            print(f"  {kind}: {tally.sent} sent, {len(tally.failed)} failed, {new_side} answered by {new}")
            for failure in tally.failed[:5]:
                print(f"    at {failure}")
        print(
            f"  keep-alive: {keep_alive.reopened} re-opened after a graceful close, {keep_alive.reconnects} reconnects"
        )
        if any(tally.failed for tally in load.tallies.values()):
            print("  harness journal:\n    " + "\n    ".join(datapath.journal))

    for kind, tally in load.tallies.items():
        assert tally.failed == [], kind
        assert any(pod.startswith(f"{new}/") for pod in tally.answers), kind
    kept = kube.get("Service", old, "app") or {}
    after = kept["spec"]
    assert (after["type"], after["clusterIP"], after["ports"]) == (before["type"], before["clusterIP"], before["ports"])
    assert kept["metadata"]["labels"][labels.PROXY] == "true"
    assert slice_addresses(kube, old, "app", manager=labels.SLICE_MANAGER) == {
        ip for ip, pod in datapath.serving().items() if pod.startswith(f"{new}/app-")
    }
    assert datapath.failures == []
