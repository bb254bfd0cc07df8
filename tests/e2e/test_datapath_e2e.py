"""Zero failed requests, measured on a real data path: kube-proxy, in a network namespace of the test's
own, routes cluster IPs to servers standing in for the kwok pods (``tests.e2e.datapath``), while
clients call through every step of a migration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import SETTINGS
from tests.e2e.datapath import DataPath, Request, ask
from tests.e2e.helpers import eventually
from webhook.core.objects import JsonObject
from webhook.dev import seed
from webhook.dev.controlplane import COMPONENTS
from webhook.dev.environment import DevEnvironment
from webhook.kube.client import Kube

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevEnvironment]:
    """A dev environment of its own, with every component: Deployments roll out, names resolve."""
    environment = DevEnvironment(Path(tmp_path_factory.mktemp("full")))
    environment.up(SETTINGS, components=COMPONENTS)
    yield environment
    environment.down()


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
