"""Handover by mirroring on a real cluster: every shape of Service keeps what its clients see (type,
cluster IP, node ports, pod names) and serves the new pods; owners, finalize, a vanished target, a
leader change during a rollout, and the mirror's lag measured over rolling updates."""

from __future__ import annotations

import json
import statistics
import threading
import time
from functools import partial
from typing import Any

import pytest

from tests.e2e.conftest import SETTINGS
from tests.e2e.helpers import eventually, metrics, mirrored, ready_pod_ips, slice_addresses
from webhook.cli.main import main as cli
from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.dev import seed
from webhook.dev.dns import resolve
from webhook.dev.environment import DevEnvironment
from webhook.dev.processes import free_port, stop_pid
from webhook.kube.client import Kube

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kube(full: DevEnvironment) -> Kube:
    return Kube.connect(str(full.kubeconfig))


def namespaces(kube: Kube, old: str, new: str, **new_labels: str) -> None:
    kube.apply(seed.namespace(old, {labels.SOURCE: "true"}))
    kube.apply(seed.namespace(new, {labels.MIGRATE_FROM: old, **new_labels}))


def workload(
    kind: str, name: str, namespace: str, *, replicas: int = 1, ports: list[JsonObject] | None = None
) -> JsonObject:
    spec: JsonObject = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": name, "image": seed.IMAGE, "ports": ports or []}]},
        },
    }
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def service(name: str, namespace: str, app: str, ports: list[JsonObject], **spec: Any) -> JsonObject:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"app": app}, "ports": ports, **spec},
    }


def serves(kube: Kube, namespace: str, name: str, addresses: object) -> bool:
    """The mirrored slices of ``namespace/name`` hold exactly ``addresses``."""
    return slice_addresses(kube, namespace, name) == addresses


def ready(kube: Kube, kind: str, namespace: str, name: str) -> bool:
    found = kube.get(kind, namespace, name) or {}
    return bool((found.get("status") or {}).get("readyReplicas", 0) >= found.get("spec", {}).get("replicas", 1))


def mirrored_ports(kube: Kube, namespace: str, name: str) -> list[JsonObject]:
    pieces = kube.list_labelled("EndpointSlice", namespace, f"{labels.SERVICE_NAME}={name}")
    return [port for piece in pieces for port in piece.get("ports") or []]


def run(capsys: pytest.CaptureFixture[str], full: DevEnvironment, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli([*args, "--kubeconfig", str(full.kubeconfig)])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_shape_keeps_its_address_and_ports_and_serves_the_new_pods(
    full: DevEnvironment, kube: Kube, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = "shapes-old", "shapes-new"
    namespaces(kube, old, new)
    http = [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]
    unnamed = [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]
    olds = {
        "num": service("num", old, "app", unnamed),
        "named": service("named", old, "app", http),
        "np": service("np", old, "app", http, type="NodePort"),
        "lb": service("lb", old, "app", http, type="LoadBalancer"),
    }
    for manifest in [
        *olds.values(),
        workload("Deployment", "app", old, ports=[{"name": "web", "containerPort": 8080}]),
    ]:
        kube.apply(manifest)
    before = {name: kube.get("Service", old, name) for name in olds}
    for manifest in [
        service("num", new, "app", [{"port": 80, "targetPort": 9090, "protocol": "TCP"}]),  # remapped by number
        service("named", new, "app", [{"name": "http", "port": 8080, "targetPort": "web", "protocol": "TCP"}]),
        service("np", new, "app", http),
        service("lb", new, "app", http),
        workload("Deployment", "app", new, replicas=2, ports=[{"name": "web", "containerPort": 9000}]),
    ]:
        kube.apply(manifest)
    for name in olds:
        eventually(partial(mirrored, kube, old, name), timeout=60)
    new_pods = eventually(lambda: len(found := slice_addresses(kube, new, "num")) == 2 and found, timeout=30)
    for name, was in before.items():
        assert was is not None
        now = kube.get("Service", old, name)
        assert now is not None
        assert now["spec"] == {k: v for k, v in was["spec"].items() if k != "selector"}, name  # IP, node ports, type
        eventually(partial(serves, kube, old, name, new_pods))
    assert mirrored_ports(kube, old, "num") == [{"name": "", "port": 9090, "protocol": "TCP"}]
    assert mirrored_ports(kube, old, "named") == [{"name": "http", "port": 9000, "protocol": "TCP"}]

    code, _, err = run(capsys, full, "finalize", f"{old}/lb")
    assert code == 1
    assert "it is a LoadBalancer Service" in err
    code, _, err = run(capsys, full, "finalize", f"{old}/named")
    assert code == 1
    assert "port 80/TCP is not served by shapes-new/named" in err
    code, out, _ = run(capsys, full, "status", "-n", old, "-o", "json")
    entries = {entry.get("service"): entry for entry in json.loads(out) if entry.get("state") == "mirrored"}
    assert entries[f"{old}/num"]["finalize"] == "ready"
    assert entries[f"{old}/np"]["depends_on_nsmigrate"] is True

    code, out, _ = run(capsys, full, "finalize", f"{old}/num")
    assert code == 0, out
    finalized = kube.get("Service", old, "num")
    assert finalized is not None
    assert finalized["spec"]["type"] == "ExternalName"
    assert finalized["spec"]["externalName"] == f"num.{new}.svc.cluster.local"
    eventually(lambda: not slice_addresses(kube, old, "num"))
    target_ip = (kube.get("Service", new, "num") or {})["spec"]["clusterIP"]
    assert resolve("num", namespace=old, port=full.control_plane.dns_port) == target_ip  # a CNAME now


def test_a_headless_statefulsets_pod_names_resolve_to_the_new_pods(full: DevEnvironment, kube: Kube) -> None:
    old, new = "db-old", "db-new"
    namespaces(kube, old, new)
    headless = [{"name": "pg", "port": 5432, "targetPort": 5432, "protocol": "TCP"}]
    pg = [{"name": "pg", "containerPort": 5432}]
    kube.apply(service("db", old, "db", headless, clusterIP="None"))
    kube.apply(workload("StatefulSet", "db", old, replicas=2, ports=pg))
    eventually(lambda: ready(kube, "StatefulSet", old, "db"), timeout=60)
    dns = full.control_plane.dns_port
    old_pod = (kube.get("Pod", old, "db-0") or {})["status"]["podIP"]
    eventually(lambda: resolve("db-0.db", namespace=old, port=dns) == old_pod, timeout=30)

    kube.apply(service("db", new, "db", headless, clusterIP="None"))
    kube.apply(workload("StatefulSet", "db", new, replicas=2, ports=pg))
    eventually(lambda: mirrored(kube, old, "db"), timeout=60)
    new_pod = (kube.get("Pod", new, "db-0") or {})["status"]["podIP"]
    assert new_pod != old_pod
    eventually(lambda: resolve("db-0.db", namespace=old, port=dns) == new_pod, timeout=30)
    assert resolve("db-1.db", namespace=old, port=dns) == (kube.get("Pod", new, "db-1") or {})["status"]["podIP"]


def test_a_helm_owned_service_waits_for_the_namespaces_consent(
    full: DevEnvironment, kube: Kube, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = "helm-old", "helm-new"
    namespaces(kube, old, new)
    http = [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]
    owned = service("web", old, "web", http)
    owned["metadata"]["labels"] = {labels.MANAGED_BY: "Helm"}
    owned["metadata"]["annotations"] = {"meta.helm.sh/release-name": "legacy", "meta.helm.sh/release-namespace": old}
    for manifest in [owned, service("plain", old, "web", http), workload("Deployment", "web", old)]:
        kube.apply(manifest)
    kube.apply(service("web", new, "web", http))
    kube.apply(service("plain", new, "web", http))
    warnings = kube.apply(workload("Deployment", "web", new)).warnings
    owned_warning = f"{old}/web is managed by Helm release legacy: not handed over automatically (see nsmigrate status)"
    assert any(warning.endswith(owned_warning) for warning in warnings), warnings
    eventually(lambda: mirrored(kube, old, "plain"), timeout=60)  # the reconciler has passed over both
    assert (kube.get("Service", old, "web") or {})["spec"]["selector"] == {"app": "web"}
    _, out, _ = run(capsys, full, "status", "-n", old)
    assert "managed by Helm release legacy" in out
    assert f"{labels.HANDOVER_OWNED}=true" in out

    kube.apply(seed.namespace(new, {labels.MIGRATE_FROM: old, labels.HANDOVER_OWNED: "true"}))
    eventually(lambda: mirrored(kube, old, "web"), timeout=30)
    handed = kube.get("Service", old, "web") or {}
    assert handed["metadata"]["labels"] == {labels.MANAGED_BY: "Helm", labels.PROXY: "true"}  # still the owner's

    # The owner re-applies its manifest, selector included: nsmigrate steps aside and says so.
    kube.request(
        "PATCH", f"/api/v1/namespaces/{old}/services/web", body={"spec": {"selector": {"app": "web"}}},
        content_type="application/merge-patch+json",
    )  # fmt: skip
    eventually(lambda: not slice_addresses(kube, old, "web", manager=labels.SLICE_MANAGER), timeout=30)
    eventually(lambda: events(kube, old, "HandoverSelectorRestored"), timeout=30)


def events(kube: Kube, namespace: str, reason: str) -> list[JsonObject]:
    return [e for e in kube.list_all("Event", namespace) if e.get("reason") == reason]


def test_a_handed_over_service_outlives_its_target(
    full: DevEnvironment, kube: Kube, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = "gone-old", "gone-new"
    namespaces(kube, old, new)
    kube.apply(seed.service("servicea", old, "appa"))
    kube.apply(seed.deployment("appa", old, {}))
    kube.apply(seed.deployment("caller", old, {"X_URL": "http://servicex/"}))
    before = kube.get("Service", old, "servicea") or {}
    for manifest in [*seed.app("a", new), seed.service("servicex", new, "appa")]:
        kube.apply(manifest)
    eventually(lambda: mirrored(kube, old, "servicea"), timeout=60)
    eventually(lambda: kube.get("Service", old, "servicex"), timeout=30)  # a proxy nsmigrate created
    kube.apply(seed.deployment("caller", old, {}))  # nobody calls servicex any more

    kube.delete("Service", new, "servicea")
    kube.delete("Service", new, "servicex")
    # The created proxy is collected after the grace period: the reconciler had its chance at both.
    eventually(lambda: kube.get("Service", old, "servicex") is None, timeout=60)
    kept = kube.get("Service", old, "servicea")
    assert kept is not None
    assert kept["spec"]["clusterIP"] == before["spec"]["clusterIP"]
    assert slice_addresses(kube, old, "servicea")  # frozen as last mirrored, not emptied
    (event,) = eventually(lambda: events(kube, old, "HandoverTargetMissing"), timeout=30)
    assert event["type"] == "Warning"
    _, out, _ = run(capsys, full, "status", "-n", old)
    assert f"{new}/servicea, which is gone" in out
    assert 'nsmigrate_handover_warnings{kind="target missing"} 1.0' in metrics(full)


class SliceLog:
    """Every change of the ready addresses of two Services' slices, as one watch stream delivers them."""

    def __init__(self, kube: Kube, *, source: tuple[str, str], mirror: tuple[str, str]) -> None:
        self.kube = kube
        self.sides = {source: "source", mirror: "mirror"}
        self.slices: dict[str, dict[str, frozenset[str]]] = {"source": {}, "mirror": {}}
        self.changes: list[tuple[float, str, frozenset[str]]] = []
        self.stop = threading.Event()
        _, self.version, _ = kube.list_page("EndpointSlice", limit=1, token="")
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def state(self, side: str) -> frozenset[str]:
        return frozenset().union(*self.slices[side].values())

    def _follow(self) -> None:
        while not self.stop.is_set():
            for event in self.kube.watch("EndpointSlice", resource_version=self.version, timeout_seconds=5):
                obj = event["object"]
                metadata = obj["metadata"]
                self.version = metadata.get("resourceVersion", self.version)
                key = (metadata.get("namespace"), (metadata.get("labels") or {}).get(labels.SERVICE_NAME))
                side = self.sides.get(key)  # type: ignore[arg-type]
                if side is None or event["type"] not in ("ADDED", "MODIFIED", "DELETED"):
                    continue
                addresses = frozenset(
                    address
                    for endpoint in obj.get("endpoints") or []
                    if (endpoint.get("conditions") or {}).get("ready") is not False
                    for address in endpoint["addresses"]
                )
                was = self.state(side)
                if event["type"] == "DELETED":
                    self.slices[side].pop(metadata["name"], None)
                else:
                    self.slices[side][metadata["name"]] = addresses
                if self.state(side) != was:
                    self.changes.append((time.monotonic(), side, self.state(side)))
                if self.stop.is_set():
                    return

    def lags(self) -> list[float]:
        """For each state the source reached, how long until the mirror reached the same (states the
        source left before the mirror caught up are not counted)."""
        found = []
        sources = [(t, s) for t, side, s in self.changes if side == "source"]
        for index, (start, wanted) in enumerate(sources):
            until = sources[index + 1][0] if index + 1 < len(sources) else float("inf")
            reached = next((t for t, side, s in self.changes if side == "mirror" and t >= start and s == wanted), None)
            if reached is not None and reached <= until:
                found.append(reached - start)
        return found


def roll(kube: Kube, namespace: str, name: str, generation: int) -> None:
    patch = {"spec": {"template": {"metadata": {"annotations": {"rollout": str(generation)}}}}}
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"
    kube.request("PATCH", path, body=patch, content_type="application/merge-patch+json")


def rolled(kube: Kube, namespace: str, name: str) -> bool:
    found = kube.get("Deployment", namespace, name) or {}
    status, spec = found.get("status") or {}, found.get("spec") or {}
    return bool(
        status.get("observedGeneration") == found["metadata"]["generation"]
        and status.get("updatedReplicas") == spec["replicas"] == status.get("readyReplicas") == status.get("replicas")
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def test_the_mirror_follows_rolling_updates_through_a_leader_change(full: DevEnvironment, kube: Kube) -> None:
    old, new = "roll-old", "roll-new"
    namespaces(kube, old, new)
    kube.apply(seed.service("servicea", old, "appa"))
    kube.apply(seed.deployment("appa", old, {}))
    app = seed.deployment("appa", new, {})
    app["spec"]["replicas"] = 4
    kube.apply(seed.service("servicea", new, "appa"))
    kube.apply(app)
    eventually(lambda: mirrored(kube, old, "servicea"), timeout=60)
    kube.delete("Deployment", old, "appa")  # the old pods retire: only the mirror serves the old name

    log = SliceLog(kube, source=(new, "servicea"), mirror=(old, "servicea"))
    failures: list[str] = []
    samples = 0
    stop = threading.Event()

    def invariant() -> None:  # the old Service's slices hold a ready pod at every sample
        nonlocal samples
        while not stop.is_set():
            if not slice_addresses(kube, old, "servicea") & ready_pod_ips(kube, [old, new]):
                failures.append(f"no ready pod behind {old}/servicea at {time.monotonic():.3f}")
            samples += 1

    checker = threading.Thread(target=invariant)
    checker.start()
    second = None
    try:
        for generation in (1, 2, 3):
            roll(kube, new, "appa", generation)
            eventually(lambda: rolled(kube, new, "appa"), timeout=60, interval=0.05)
        # Leader change during a rollout: a second replica waits, the leader stops mid-rollout.
        port = free_port()
        second = full.serve(SETTINGS, port=port, log=full.workdir / "second-webhook.log")
        roll(kube, new, "appa", 4)
        stop_pid(full.webhook_pid)
        # The scale subresource does not go through the (stopped) admission webhook: the new leader has
        # at least this to mirror, whatever of the rollout the old one managed.
        scale = {"spec": {"replicas": 5}}
        path = f"/apis/apps/v1/namespaces/{new}/deployments/appa/scale"
        kube.request("PATCH", path, body=scale, content_type="application/merge-patch+json")
        eventually(lambda: "nsmigrate_reconciler_leader 1.0" in metrics(full, port), timeout=30)
        eventually(lambda: rolled(kube, new, "appa"), timeout=60, interval=0.05)
        eventually(
            lambda: log.state("mirror") == log.state("source") == frozenset(slice_addresses(kube, new, "servicea"))
        )
        assert "slice_mirrored" in (full.workdir / "second-webhook.log").read_text()  # the new leader wrote
    finally:
        stop.set()
        checker.join()
        log.stop.set()
        if second is not None:
            stop_pid(second)
        full.webhook_pid = full.serve(SETTINGS, port=full.webhook_port, log=full.workdir / "webhook.log")
    lags = log.lags()
    assert failures == []
    assert len(lags) >= 10
    print(
        f"mirror lag over {len(lags)} slice changes in 4 rolling updates (one through a leader change and a scale-up): "
        f"p50 {percentile(lags, 0.5) * 1000:.0f} ms, p99 {percentile(lags, 0.99) * 1000:.0f} ms, "
        f"max {max(lags) * 1000:.0f} ms, mean {statistics.mean(lags) * 1000:.0f} ms; "
        f"invariant held over {samples} samples"
    )


def test_a_proxy_made_by_an_earlier_version_gets_the_proxy_label(kube: Kube) -> None:
    old, new = "legacy-old", "legacy-new"
    namespaces(kube, old, new)
    kube.apply(seed.service("servicea", new, "appa"))
    legacy = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "servicea",
            "namespace": old,
            "labels": {labels.MANAGED_BY: labels.MANAGER},
            "annotations": {labels.PROXY_FOR: f"{new}/servicea"},
        },
        "spec": {"type": "ExternalName", "externalName": f"servicea.{new}.svc.cluster.local"},
    }
    kube.apply(legacy)
    labelled = eventually(
        lambda: ((kube.get("Service", old, "servicea") or {})["metadata"].get("labels") or {}).get(labels.PROXY)
    )
    assert labelled == "true"
