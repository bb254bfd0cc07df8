"""The watch cache and the reconciler against the real API server."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import SETTINGS
from tests.e2e.helpers import apply_all, env_of, eventually, metrics, migrating, refused, with_proxy
from webhook.dev import seed
from webhook.dev.environment import DevEnvironment
from webhook.dev.processes import free_port, stop_pid
from webhook.http.metrics import sample as metric
from webhook.kube.client import Kube

pytestmark = pytest.mark.e2e


def admission_reads(dev: DevEnvironment) -> float:
    return metric(metrics(dev), "nsmigrate_api_requests_total", verb="read", during_admission="true")


def test_admissions_decided_from_the_cache_make_no_api_reads(
    dev: DevEnvironment, kube: Kube, names: tuple[str, str]
) -> None:
    old, new = names
    with_proxy(kube, old, new)
    before = admission_reads(dev)

    kube.apply(seed.deployment("appa", new, {"SERVICEB_URL": "http://serviceb/", "C": "servicec:80"}))  # UPDATE
    stored = kube.get("Deployment", new, "appa")
    assert stored is not None
    kube.request("PUT", f"/apis/apps/v1/namespaces/{new}/deployments/appa", body=stored)  # re-apply as stored
    kube.apply(seed.deployment("appd", new, {"B": f"http://serviceb.{old}.svc.cluster.local/"}))  # CREATE, settled
    refused(kube, old)  # a denied proxy deletion

    assert env_of(kube.get("Deployment", new, "appa"))["C"] == f"servicec.{old}.svc.cluster.local:80"  # type: ignore[arg-type]
    assert admission_reads(dev) == before


def test_service_created_after_its_workload_gets_its_proxy(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    migrating(kube, old, new)
    kube.apply(seed.deployment("appa", new, seed.CALLS["a"]))
    assert kube.get("Service", old, "servicea") is None
    kube.apply(seed.service("servicea", new, "appa"))

    proxy = eventually(lambda: kube.get("Service", old, "servicea"))
    assert proxy["spec"]["externalName"] == f"servicea.{new}.svc.cluster.local"


def test_proxy_ports_follow_the_target(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    with_proxy(kube, old, new)
    kube.apply(seed.service("servicea", new, "appa", port=8081))

    def follows() -> bool:
        proxy = kube.get("Service", old, "servicea") or {}
        return [p["port"] for p in proxy.get("spec", {}).get("ports", [])] == [8081]

    eventually(follows)


def test_orphan_proxy_is_removed_after_the_grace_period(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    with_proxy(kube, old, new)
    kube.apply(seed.deployment("appc", old, {"SERVICEA_URL": f"http://servicea.{new}.svc.cluster.local/"}))
    kube.delete("Service", new, "servicea")

    eventually(lambda: kube.get("Service", old, "servicea") is None, timeout=SETTINGS.orphan_grace_seconds + 15)


def test_orphan_proxy_with_callers_stays(dev: DevEnvironment, kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    with_proxy(kube, old, new)
    passes = metric(metrics(dev), "nsmigrate_reconcile_passes_total")
    kube.delete("Service", new, "servicea")
    # Passes are at least reconcile_interval_seconds apart: enough of them outlast the grace period and the
    # pass that would delete an orphan after it (the test above shows that pass deletes one without callers).
    enough = passes + 2 + SETTINGS.orphan_grace_seconds / SETTINGS.reconcile_interval_seconds
    eventually(lambda: metric(metrics(dev), "nsmigrate_reconcile_passes_total") >= enough, timeout=30)
    assert kube.get("Service", old, "servicea") is not None, "kept for its caller"


def test_local_service_created_just_before_the_workload_wins(kube: Kube, names: tuple[str, str]) -> None:
    """`kubectl apply -f dir/`: each Service lands milliseconds before the Deployment calling it by
    the same name as an old-namespace Service. No sleeps: whatever the cache has seen, none may be
    qualified."""
    old, new = names
    count = 20
    apply_all(
        kube,
        [
            seed.namespace(old, {"nsmigrate.io/source": "true"}),
            *[seed.service(f"svc{n}", old, f"old{n}") for n in range(count)],
            seed.new_namespace(new, old=old),
        ],
    )
    for n in range(count):
        kube.apply(seed.service(f"svc{n}", new, f"app{n}"))
        reply = kube.apply(seed.deployment(f"app{n}", new, {"URL": f"http://svc{n}/"}))
        assert env_of(reply.body) == {"URL": f"http://svc{n}/"}, f"app{n} was rewritten although svc{n} is local"


def test_two_replicas_elect_one_reconciler(dev: DevEnvironment, kube: Kube, names: tuple[str, str]) -> None:
    port = free_port()
    log = dev.workdir / "second-webhook.log"
    second = dev.serve(SETTINGS, port=port, log=log)
    try:
        leaders = [metric(metrics(dev, p), "nsmigrate_reconciler_leader") for p in (dev.webhook_port, port)]
        assert sorted(leaders) == [0.0, 1.0]

        old, new = names
        migrating(kube, old, new)
        kube.apply(seed.deployment("appa", new, seed.CALLS["a"]))
        kube.apply(seed.service("servicea", new, "appa"))
        eventually(lambda: kube.get("Service", old, "servicea"))
        logs = [(dev.workdir / "webhook.log").read_text(), log.read_text()]
        acted = [
            any(f'"proxy": "{old}/servicea"' in line and "proxy_reconciled" in line for line in text.splitlines())
            for text in logs
        ]
        assert acted == [leader == 1.0 for leader in leaders]
    finally:
        stop_pid(second)


def test_a_first_deploy_with_short_names_confirms_with_counted_reads(
    dev: DevEnvironment, kube: Kube, names: tuple[str, str]
) -> None:
    old, new = names
    migrating(kube, old, new)
    eventually(lambda: metric(metrics(dev), "nsmigrate_cache_objects") > 0)
    before = admission_reads(dev)
    kube.apply(seed.deployment("first", new, {"B": "http://serviceb/"}))  # CREATE: serviceb confirmed
    assert admission_reads(dev) > before


def test_a_stopping_replica_hands_the_lease_over_at_once(dev: DevEnvironment, kube: Kube) -> None:
    """The second replica is stopped while it holds the lease; the first takes over well before the
    lease would have expired."""
    port = free_port()
    lease_path = f"/apis/coordination.k8s.io/v1/namespaces/nsmigrate/leases/{SETTINGS.lease_name}"
    stop_pid(dev.webhook_pid)  # the dev webhook steps aside so that the new replica leads
    try:
        second = dev.serve(SETTINGS, port=port, log=dev.workdir / "lease-webhook.log")
        try:
            eventually(lambda: metric(metrics(dev, port), "nsmigrate_reconciler_leader") == 1.0, timeout=30)
        finally:
            stop_pid(second)
        holder = kube.request("GET", lease_path).body["spec"].get("holderIdentity")
        assert holder == ""
    finally:  # the shared dev webhook comes back whatever happened: later tests need it
        dev.webhook_pid = dev.serve(SETTINGS, port=dev.webhook_port, log=dev.workdir / "webhook.log")
