"""Zero downtime, as the cluster sees it: Deployments that really roll out (controller manager,
scheduler, kwok) and names that really resolve (CoreDNS), checked without pause while each step of a
migration runs: every old name keeps the cluster IP it had, and that IP keeps a ready pod behind it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import pytest

from tests.e2e.helpers import apply_all, available, eventually, metrics, mirrored, ready_pod_ips, slice_addresses
from webhook.cli.main import main as cli
from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.core.hosts import find_hosts
from webhook.dev import demo, seed
from webhook.dev.dns import resolve
from webhook.dev.environment import DevEnvironment
from webhook.http.metrics import sample
from webhook.kube.client import Kube

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kube(full: DevEnvironment) -> Kube:
    return Kube.connect(str(full.kubeconfig))


SAMPLES_AFTER_A_STEP = 20


def reconciled_since(dev: DevEnvironment) -> Callable[[], None]:
    """A wait for two reconcile passes after now: nothing happening is then shown after passes that
    could have done it, not after a pause."""
    passes = sample(metrics(dev), "nsmigrate_reconcile_passes_total")

    def wait() -> None:
        eventually(lambda: sample(metrics(dev), "nsmigrate_reconcile_passes_total") >= passes + 2, timeout=30)

    return wait


def references(kube: Kube, namespaces: list[str]) -> list[tuple[str, str]]:
    """(namespace, host) for every host that every Deployment's env refers to."""
    found = set()
    for namespace in namespaces:
        for deployment in kube.list_all("Deployment", namespace):
            for container in deployment["spec"]["template"]["spec"]["containers"]:
                for entry in container.get("env", []):
                    for ref in find_hosts(entry.get("value", ""), variable=entry["name"]):
                        found.add((namespace, ref.host))
    return sorted(found)


@dataclass
class Watcher:
    """Resolves every referenced name, over and over, while a step runs; counts lookups and misses.
    An old-namespace name must answer with the cluster IP its Service had at the start, and that
    Service's slices must hold a pod that is Ready at that moment."""

    full: DevEnvironment
    kube: Kube
    namespaces: list[str]
    lookups: int = 0
    samples: int = 0
    failures: list[str] = field(default_factory=list)
    handover_seconds: list[float] = field(default_factory=list)
    cluster_ips: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for namespace in self.namespaces:
            for service in self.kube.list_all("Service", namespace):
                if ip := service["spec"].get("clusterIP"):
                    self.cluster_ips[(namespace, service["metadata"]["name"])] = ip

    def check(self, step: str, names: list[tuple[str, str]]) -> None:
        """One sample: every name resolves; an original Service's name to its own IP, with a ready pod."""
        pods: set[str] | None = None
        for namespace, host in names:
            self.lookups += 1
            address = resolve(host, namespace=namespace, port=self.full.control_plane.dns_port)
            if address is None:
                self.failures.append(f"{step}: {host} from {namespace}")
                continue
            original = self.cluster_ips.get((namespace, host))
            if original is None or original == "None":
                continue
            if address != original:
                self.failures.append(f"{step}: {host} from {namespace} is {address}, was {original}")
            pods = ready_pod_ips(self.kube, self.namespaces) if pods is None else pods
            if not slice_addresses(self.kube, namespace, host) & pods:
                self.failures.append(f"{step}: {namespace}/{host} ({original}) has no ready pod in its slices")
        self.samples += 1

    def during(self, step: str, action: Callable[[], object]) -> None:
        names = references(self.kube, self.namespaces)
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                self.check(step, names)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            action()
            # Keep resolving a while after the step (CoreDNS must have caught up, not lost the name):
            # a number of samples, not a length of time.
            after = self.samples
            eventually(lambda: self.samples >= after + SAMPLES_AFTER_A_STEP, timeout=60)
        finally:
            stop.set()
            poller.join()
        # And once more, for the references as they are after the step.
        self.check(f"after {step}", references(self.kube, self.namespaces))


@dataclass(frozen=True)
class Plan:
    """A migration: apps (letter -> env) moving from ``old`` to ``new``, and the callers left in
    ``old`` (deployment -> env using the new full names) that are redeployed before the proxies go."""

    old: str
    new: str
    moving: dict[str, dict[str, str]]
    callers: dict[str, dict[str, str]]


def migrate(kube: Kube, watcher: Watcher, plan: Plan) -> None:
    """The manual plan of SPEC.md: deploy each moving app in the new namespace, let the handover
    happen, retire the old app; redeploy the callers with the new names; delete the proxies."""
    old, new = plan.old, plan.new
    for letter, env in plan.moving.items():
        app = [seed.service(f"service{letter}", new, f"app{letter}"), seed.deployment(f"app{letter}", new, env)]
        watcher.during(f"deploy app{letter} in {new}", partial(apply_all, kube, app))
        eventually(partial(available, kube, new, f"app{letter}"), timeout=60, interval=0.02)
        became_available = time.monotonic()

        def handed_over(letter: str = letter) -> bool:
            return mirrored(kube, old, f"service{letter}")

        def switched(check: Callable[[], bool] = handed_over, since: float = became_available) -> None:
            eventually(check, timeout=30, interval=0.02)
            watcher.handover_seconds.append(time.monotonic() - since)

        watcher.during(f"handover of service{letter}", switched)
        watcher.during(f"retire {old}/app{letter}", partial(kube.delete, "Deployment", old, f"app{letter}"))
    for caller, env in plan.callers.items():
        watcher.during(f"redeploy {old}/{caller}", partial(kube.apply, seed.deployment(caller, old, env)))
    for letter in plan.moving:
        watcher.during(f"delete proxy {old}/service{letter}", partial(delete_proxy, kube, old, f"service{letter}"))


def delete_proxy(kube: Kube, namespace: str, name: str) -> None:
    """Delete a proxy whose last caller was just redeployed: the webhook's cache may take a moment to
    see that redeploy, and refuses until it does (the safe side of cache lag)."""
    eventually(lambda: demo.deleted(kube, namespace, name), timeout=10)


def test_seed_migration_never_loses_a_name(full: DevEnvironment, kube: Kube) -> None:
    apply_all(kube, [*seed.old_namespace("foobar"), seed.new_namespace("foo", old="foobar")])
    for letter in "abc":
        eventually(partial(available, kube, "foobar", f"app{letter}"), timeout=60)
    watcher = Watcher(full, kube, ["foobar", "foo"])
    plan = Plan(
        "foobar",
        "foo",
        moving={"a": seed.CALLS["a"]},
        callers={"appc": {"SERVICEA_URL": "http://servicea.foo.svc.cluster.local/"}},
    )
    migrate(kube, watcher, plan)
    assert watcher.failures == []
    assert watcher.lookups > 100
    print(
        f"seed: {watcher.lookups} lookups in {watcher.samples} samples, {len(watcher.failures)} failures, "
        f"handover {watcher.handover_seconds}"
    )


def test_larger_migration_never_loses_a_name(full: DevEnvironment, kube: Kube) -> None:
    """A dozen services calling each other in a ring; every other one moves to a team namespace."""
    letters = "defghijklmno"
    old, new = "shared", "team"

    def env(letter: str, *, moved: set[str] = frozenset()) -> dict[str, str]:  # type: ignore[assignment]
        peer = letters[(letters.index(letter) + 1) % len(letters)]
        host = f"service{peer}.{new}.svc.cluster.local" if peer in moved else f"service{peer}"
        return {f"SERVICE{peer.upper()}_URL": f"http://{host}:80/", "CACHE_HOST": "serviced"}

    manifests: list[JsonObject] = [seed.namespace(old, {labels.SOURCE: "true"}), seed.new_namespace(new, old=old)]
    for letter in letters:
        manifests += [
            seed.service(f"service{letter}", old, f"app{letter}"),
            seed.deployment(f"app{letter}", old, env(letter)),
        ]
    apply_all(kube, manifests)
    for letter in letters:
        eventually(partial(available, kube, old, f"app{letter}"), timeout=60)
    moving = set("egik")
    callers = {f"app{letters[letters.index(m) - 1]}": env(letters[letters.index(m) - 1], moved=moving) for m in moving}
    watcher = Watcher(full, kube, [old, new])
    migrate(kube, watcher, Plan(old, new, moving={m: env(m) for m in sorted(moving)}, callers=callers))
    assert watcher.failures == []
    print(
        f"larger: {watcher.lookups} lookups in {watcher.samples} samples, {len(watcher.failures)} failures, "
        f"handovers {watcher.handover_seconds}"
    )


def test_manual_handover_mode_waits_for_the_command(full: DevEnvironment, kube: Kube) -> None:
    apply_all(
        kube,
        [
            *seed.old_namespace("m-old"),
            seed.namespace("m-new", {labels.MIGRATE_FROM: "m-old", labels.HANDOVER: "manual"}),
        ],
    )
    apply_all(kube, seed.app("a", "m-new"))
    eventually(lambda: available(kube, "m-new", "appa"), timeout=60)
    reconciled_since(full)()  # the reconciler has looked since appa became Available
    assert (kube.get("Service", "m-old", "servicea") or {})["spec"]["selector"] == {"app": "appa"}


def test_handover_and_rollback_by_hand(full: DevEnvironment, kube: Kube, capsys: pytest.CaptureFixture[str]) -> None:
    apply_all(
        kube,
        [
            *seed.old_namespace("h-old"),
            seed.namespace("h-new", {labels.MIGRATE_FROM: "h-old", labels.HANDOVER: "manual"}),
        ],
    )
    before = kube.get("Service", "h-old", "servicea")
    assert before is not None
    config = ["--kubeconfig", str(full.kubeconfig)]

    apply_all(kube, [seed.service("servicea", "h-new", "appa")])
    assert cli(["handover", "h-old/servicea", *config]) == 1
    assert "not handing over h-old/servicea yet: no workload in h-new" in capsys.readouterr().err

    apply_all(kube, [seed.deployment("appa", "h-new", seed.CALLS["a"])])
    eventually(lambda: available(kube, "h-new", "appa"), timeout=60)
    assert cli(["handover", "h-old/servicea", *config]) == 0
    eventually(lambda: mirrored(kube, "h-old", "servicea"))
    handed = kube.get("Service", "h-old", "servicea")
    assert handed is not None
    assert handed["spec"] == {k: v for k, v in before["spec"].items() if k != "selector"}  # same IP, same ports
    assert json.loads(handed["metadata"]["annotations"][labels.ORIGINAL_SPEC]) == before["spec"]
    assert handed["metadata"]["labels"] == {labels.PROXY: "true"}
    new_pods = slice_addresses(kube, "h-new", "servicea")
    assert slice_addresses(kube, "h-old", "servicea", manager=labels.SLICE_MANAGER) == new_pods

    assert cli(["rollback", "h-old/servicea", *config]) == 0
    restored = kube.get("Service", "h-old", "servicea")
    assert restored is not None
    assert restored["spec"] == before["spec"]  # the same cluster IP included
    assert labels.ROLLED_BACK in restored["metadata"]["annotations"]
    assert labels.PROXY not in (restored["metadata"].get("labels") or {})
    assert slice_addresses(kube, "h-old", "servicea", manager=labels.SLICE_MANAGER) == set()
    assert slice_addresses(kube, "h-old", "servicea", manager=labels.SLICE_CONTROLLER)  # the old pods again

    passes = reconciled_since(full)
    kube.request(  # switch to automatic: a rolled-back Service is still left alone
        "PATCH", "/api/v1/namespaces/h-new", body={"metadata": {"labels": {labels.HANDOVER: None}}},
        content_type="application/merge-patch+json",
    )  # fmt: skip
    passes()
    assert (kube.get("Service", "h-old", "servicea") or {})["spec"]["selector"] == {"app": "appa"}
