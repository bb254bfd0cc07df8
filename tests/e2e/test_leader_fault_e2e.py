"""Fault: the reconciler's leader SIGKILLed in the middle of handovers and mirror writes. Afterwards no
Service is half handed over, every mirror is complete, and there is no duplicate proxy."""

from __future__ import annotations

import os
import signal
from functools import partial

import pytest

from tests.e2e.conftest import SETTINGS
from tests.e2e.helpers import apply_all, available, eventually, metrics, mirrored, slice_addresses
from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.dev import seed
from webhook.dev.environment import DevEnvironment
from webhook.dev.processes import free_port, stop_pid
from webhook.kube.client import Kube

pytestmark = pytest.mark.e2e

OLD, NEW = "kill-old", "kill-new"
LATE = 2
"""New sides whose Services come only after the kill: whatever the timing, the standby has handovers left
to make, so the kill cannot fall after every handover."""


@pytest.fixture(scope="module")
def kube(full: DevEnvironment) -> Kube:
    return Kube.connect(str(full.kubeconfig))


APPS = 8


def _deployment(name: str, namespace: str) -> JsonObject:
    return seed.deployment(name, namespace, {})


def _service(index: int, namespace: str) -> JsonObject:
    return seed.service(f"svc{index}", namespace, f"app{index}")


def _whole(kube: Kube, name: str) -> str:
    """What is wrong with ``kill-old/<name>`` as a handed-over Service, or "" when nothing is."""
    found = kube.get("Service", OLD, name)
    if found is None:
        return "gone"
    metadata, spec = found["metadata"], found["spec"]
    problems = {
        f"type {spec.get('type')}, cluster IP {spec.get('clusterIP')}": spec.get("type", "ClusterIP") != "ClusterIP"
        or not spec.get("clusterIP"),
        "not handed over (selector still there)": bool(spec.get("selector")),
        "selector gone but no original spec recorded: half handed over": not spec.get("selector")
        and labels.ORIGINAL_SPEC not in (metadata.get("annotations") or {}),
        "no proxy label": (metadata.get("labels") or {}).get(labels.PROXY) != "true",
        "mirror incomplete": slice_addresses(kube, OLD, name, manager=labels.SLICE_MANAGER)
        != slice_addresses(kube, NEW, name),
    }
    return "; ".join(problem for problem, found_it in problems.items() if found_it)


def test_a_leader_killed_mid_handover_leaves_nothing_half_done(full: DevEnvironment, kube: Kube) -> None:
    apply_all(kube, [seed.namespace(OLD, {labels.SOURCE: "true"}), seed.namespace(NEW, {labels.MIGRATE_FROM: OLD})])
    for index in range(APPS):
        apply_all(kube, [_service(index, OLD), _deployment(f"app{index}", OLD)])
    for index in range(APPS):
        eventually(partial(available, kube, OLD, f"app{index}"), timeout=60)
    before = {f"svc{i}": (kube.get("Service", OLD, f"svc{i}") or {})["spec"]["clusterIP"] for i in range(APPS)}

    port = free_port()
    second = full.serve(SETTINGS, port=port, log=full.workdir / "standby-webhook.log")
    try:
        early = APPS - LATE
        for index in range(early):  # these new sides at once: handovers follow as each becomes Available
            apply_all(kube, [_service(index, NEW), _deployment(f"app{index}", NEW)])
        for index in range(early, APPS):  # the late Deployments now: admitting them needs the leader's webhook
            kube.apply(_deployment(f"app{index}", NEW))
        eventually(lambda: any(mirrored(kube, OLD, f"svc{i}") for i in range(early)), timeout=60, interval=0.01)
        os.killpg(full.webhook_pid, signal.SIGKILL)  # the leader, in the middle of it
        handed_at_kill = sum(mirrored(kube, OLD, f"svc{i}") for i in range(APPS))
        assert 0 < handed_at_kill < APPS, f"killed with {handed_at_kill} of {APPS} handed over: not mid-handover"
        stop_pid(full.webhook_pid)  # reaps it
        for index in range(early, APPS):  # no webhook admits a Service CREATE: nothing waits for the dead one
            kube.apply(_service(index, NEW))
        eventually(lambda: "nsmigrate_reconciler_leader 1.0" in metrics(full, port), timeout=30)

        def all_whole() -> bool:
            return not any(_whole(kube, f"svc{i}") for i in range(APPS))

        eventually(all_whole, timeout=90)
    finally:
        stop_pid(second)
        full.webhook_pid = full.serve(SETTINGS, port=full.webhook_port, log=full.workdir / "webhook.log")

    services = list(kube.list_all("Service", OLD))
    assert sorted(s["metadata"]["name"] for s in services) == sorted(before), "no duplicate or extra Service"
    assert {s["metadata"]["name"]: s["spec"]["clusterIP"] for s in services} == before, "every cluster IP kept"
    print(
        f"FIGURE leader SIGKILLed with {handed_at_kill} of {APPS} handovers done: the standby took over, "
        f"all {APPS} handed over whole with complete mirrors, 0 half done, 0 duplicate proxies"
    )
