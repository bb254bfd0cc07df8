"""The fault suite: the webhook killed mid-burst, the API server and etcd restarted under traffic, a slow
API server, and a webhook slower than its registration's timeout. Each test prints its figure
(``FIGURE ...`` lines, shown even when pytest captures output)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import SETTINGS
from tests.e2e.helpers import api_server_tls, env_of, eventually, metrics, migrating, post_review
from tests.e2e.slow import DelayingProxy, SlowWebhook
from tests.reviews import review
from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.dev import registration, seed
from webhook.dev.environment import DevEnvironment
from webhook.dev.processes import free_port, stop_pid
from webhook.http.metrics import sample
from webhook.kube.client import ApiError, Kube

pytestmark = pytest.mark.e2e

Figure = Callable[[str], None]
SHORT = {"B_URL": "http://serviceb/", "C_ADDR": "servicec:80"}
"""Two references to old-namespace Services: a stored object has both rewritten, or neither."""


@pytest.fixture
def figure(capsys: pytest.CaptureFixture[str]) -> Figure:
    def say(text: str) -> None:
        with capsys.disabled():
            print(f"\nFIGURE {text}", flush=True)

    return say


def rewritten(old: str) -> dict[str, str]:
    return {"B_URL": f"http://serviceb.{old}.svc.cluster.local/", "C_ADDR": f"servicec.{old}.svc.cluster.local:80"}


def mutation_state(obj: JsonObject, old: str) -> str:
    """mutated (both values and the annotation), unmutated (none), or half-mutated (anything else)."""
    records = json.loads(obj["metadata"].get("annotations", {}).get(labels.REWRITTEN_ENV, "[]"))
    env = env_of(obj)
    if env == rewritten(old) and sorted(record["env"] for record in records) == ["B_URL", "C_ADDR"]:
        return "mutated"
    if env == SHORT and not records:
        return "unmutated"
    return "half-mutated"


def kill(pid: int) -> None:
    """SIGKILL the whole process group (gunicorn's arbiter and its worker) and reap it."""
    os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


@contextlib.contextmanager
def dev_webhook_restored(dev: DevEnvironment) -> Iterator[None]:
    """Whatever a test does to the dev webhook, it serves again afterwards, on its port."""
    try:
        yield
    finally:
        try:
            os.kill(dev.webhook_pid, 0)
        except ProcessLookupError:
            dev.webhook_pid = dev.serve(SETTINGS, port=dev.webhook_port, log=dev.workdir / "webhook.log")


BURST = 100


def test_webhook_killed_during_a_burst_stores_nothing_unmutated(
    dev: DevEnvironment, kube: Kube, names: tuple[str, str], figure: Figure
) -> None:
    old, new = names
    migrating(kube, old, new)
    outcomes: dict[str, str] = {}
    created = threading.Semaphore(0)

    def create(name: str) -> None:
        try:
            kube.create(seed.deployment(name, new, SHORT))
            outcomes[name] = "created"
            created.release()
        except ApiError as error:
            outcomes[name] = f"refused: HTTP {error.status}"
        except Exception as error:
            outcomes[name] = f"error: {type(error).__name__}"

    with dev_webhook_restored(dev), ThreadPoolExecutor(max_workers=4) as pool:
        burst = [pool.submit(create, f"burst-{n}") for n in range(BURST)]
        for _ in range(BURST // 4):  # a quarter of the burst is stored: the webhook dies mid-flight
            assert created.acquire(timeout=60)
        killed = time.monotonic()
        kill(dev.webhook_pid)
        for future in burst:
            future.result()
        dev.webhook_pid = dev.serve(SETTINGS, port=dev.webhook_port, log=dev.workdir / "webhook.log")
        back = time.monotonic() - killed

    stored = {name: kube.get("Deployment", new, name) for name in outcomes}
    states = Counter(mutation_state(obj, old) if obj else "absent" for obj in stored.values())
    refused = sorted(name for name, obj in stored.items() if obj is None)
    assert all(not outcomes[name].startswith("created") for name in refused)
    assert states["unmutated"] == 0
    assert states["half-mutated"] == 0
    assert refused, "the webhook was killed before the burst ended: some creates were refused"

    def retried(name: str) -> bool:
        with contextlib.suppress(ApiError):
            kube.create(seed.deployment(name, new, SHORT))
        obj = kube.get("Deployment", new, name)
        return obj is not None and mutation_state(obj, old) == "mutated"

    for name in refused:
        eventually(lambda name=name: retried(name), timeout=30)  # type: ignore[misc]
    answers = Counter(outcome.split(":")[0] for outcome in outcomes.values())
    figure(
        f"webhook SIGKILLed during a burst of {BURST} Deployment CREATEs (failurePolicy Fail): "
        f"{states['mutated']} stored, all correctly mutated; {len(refused)} refused "
        f"({dict(answers)}); 0 stored unmutated, 0 half-mutated; serving again {back:.1f} s after the kill; "
        f"the {len(refused)} refused ones created again afterwards: all mutated"
    )


class Traffic:
    """Dry-run UPDATEs of ``new/appz`` from one thread until stopped, each decision checked: serviceb
    (in the old namespace all along) must be rewritten, ``nothere`` (nowhere) must not."""

    def __init__(self, kube: Kube, old: str, new: str) -> None:
        self.kube, self.old, self.new = kube, old, new
        self.correct = 0
        self.unanswered = 0
        self.wrong: list[dict[str, str]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        manifest = seed.deployment("appz", self.new, {"B_URL": "http://serviceb/", "N_URL": "http://nothere/"})
        while not self.stop.is_set():
            try:
                env = env_of(self.kube.apply(manifest, dry_run=True).body)
            except Exception:
                self.unanswered += 1
                self.stop.wait(0.05)  # pace the retries while it is down
                continue
            expected = {"B_URL": f"http://serviceb.{self.old}.svc.cluster.local/", "N_URL": "http://nothere/"}
            if env == expected:
                self.correct += 1
            else:
                self.wrong.append(env)

    def __enter__(self) -> Traffic:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


@pytest.mark.parametrize("component", ["kube-apiserver", "etcd"])
def test_restart_under_traffic_resyncs_without_a_wrong_decision(
    dev: DevEnvironment, kube: Kube, names: tuple[str, str], figure: Figure, component: str
) -> None:
    old, new = names
    migrating(kube, old, new)
    kube.apply(seed.deployment("appz", new, {}))
    restart = {"kube-apiserver": dev.control_plane.restart_apiserver, "etcd": dev.control_plane.restart_etcd}
    log_lines_before = len((dev.workdir / "webhook.log").read_text().splitlines())

    with Traffic(kube, old, new) as traffic:
        eventually(lambda: traffic.correct >= 20)
        started = time.monotonic()
        restart[component]()
        down = time.monotonic() - started
        kube.apply(seed.service("late", old, "late"))  # exists only after the restart

        def late_is_known() -> bool:  # an UPDATE is decided from the cache alone
            reply = kube.apply(seed.deployment("appz", new, {"LATE_URL": "http://late/"}), dry_run=True)
            return env_of(reply.body)["LATE_URL"] == f"http://late.{old}.svc.cluster.local/"

        eventually(late_is_known, timeout=60)
        resynced = time.monotonic() - started
        after = traffic.correct
        eventually(lambda: traffic.correct >= after + 100, timeout=60)

    assert traffic.wrong == []
    assert sample(metrics(dev), "nsmigrate_cache_synced") == 1.0
    lines = (dev.workdir / "webhook.log").read_text().splitlines()[log_lines_before:]
    failures = [line for line in lines if '"watch_failed"' in line]
    if component == "kube-apiserver":
        assert failures, "the watches noticed the restart"
    figure(
        f"{component} restarted under traffic: {traffic.correct + traffic.unanswered} dry-run UPDATEs, "
        f"{traffic.correct} decided, all correctly, {traffic.unanswered} unanswered while it was down "
        f"({down:.1f} s to ready), 0 wrong; a Service created after the restart used {resynced:.1f} s after "
        f"it began; {len(failures)} watch failures logged"
    )


def registered_timeout(kube: Kube) -> int:
    configuration = kube.get("MutatingWebhookConfiguration", None, registration.NAME)
    assert configuration is not None
    return int(configuration["webhooks"][0]["timeoutSeconds"])


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


@pytest.fixture
def slow_api_server(dev: DevEnvironment, tmp_path: Path) -> Iterator[tuple[DelayingProxy, int]]:
    """A second ``nsmigrate serve`` whose API server is behind a delaying proxy (no delay until the
    test sets one: it lists and syncs first)."""
    proxy = DelayingProxy(dev.control_plane.apiserver_port)
    kubeconfig = proxy.kubeconfig(dev.kubeconfig, tmp_path / "slow-kubeconfig.json")
    port = free_port()
    settings = dataclasses.replace(SETTINGS, kubeconfig=str(kubeconfig))
    pid = dev.serve(settings, port=port, log=dev.workdir / "slow-api-webhook.log")
    try:
        yield proxy, port
    finally:
        proxy.delay = 0
        stop_pid(pid)
        proxy.close()


def test_a_slow_api_server_delays_no_answer_past_the_timeout(
    dev: DevEnvironment,
    kube: Kube,
    names: tuple[str, str],
    figure: Figure,
    slow_api_server: tuple[DelayingProxy, int],
) -> None:
    proxy, port = slow_api_server
    old, new = names
    migrating(kube, old, new)  # old/appc calls servicea, whose live Service is retired
    kube.apply(seed.service("servicea", new, "appa"))  # moved: the old namespace needs a proxy
    appa = seed.deployment("appa", new, SHORT)
    update = review(appa, operation="UPDATE", old=appa)  # decided from the cache, then a proxy to create
    dry = review(appa, operation="UPDATE", old=appa, dry_run=True)  # from the cache alone
    create = review(seed.deployment("fresh", new, SHORT), dry_run=True)  # confirms names by GET
    timeout = registered_timeout(kube)

    def answer(body: dict[str, Any]) -> tuple[dict[str, Any], float]:
        (status, text), seconds = timed(lambda: post_review(port, "/mutate", body, api_server_tls(dev)))
        assert status == 200
        return json.loads(text)["response"], seconds

    def sees_the_migration() -> bool:
        """This replica's cache holds what the UPDATE needs: the moved Service, the caller, no live one."""
        return f"would create proxy {old}/servicea" in " ".join(answer(dry)[0].get("warnings", []))

    eventually(sees_the_migration, timeout=30)
    _, fast = answer(dry)
    proxy.delay = 2 * SETTINGS.api_timeout_seconds  # every API request reaches it 4 s late
    _, cached = answer(dry)
    made, slow = answer(update)
    confirmed, first = answer(create)

    assert max(cached, slow, first) < timeout
    assert made["allowed"] is True
    assert f"could not create proxy {old}/servicea" in " ".join(made.get("warnings", []))
    assert sample(metrics(dev, port), "nsmigrate_proxy_create_failures_total") == 1.0
    figure(
        f"API server {proxy.delay:.0f} s slow per request (api_timeout_seconds {SETTINGS.api_timeout_seconds}, "
        f"registration timeoutSeconds {timeout}): UPDATE from the cache {cached * 1000:.0f} ms "
        f"({fast * 1000:.0f} ms before the delay); UPDATE needing a proxy answered in {slow:.2f} s, allowed "
        f"and patched, proxy creation given up with a warning; first CREATE (names confirmed by GET) answered "
        f"in {first:.2f} s: {'allowed' if confirmed['allowed'] else 'refused'} "
        f"({confirmed.get('status', {}).get('message', 'patched')[:80]})"
    )


@pytest.mark.parametrize("policy", ["Fail", "Ignore"])
def test_a_webhook_slower_than_its_timeout_is_treated_per_failure_policy(
    dev: DevEnvironment, kube: Kube, figure: Figure, policy: str
) -> None:
    """Kubernetes' conformance case ("should honor timeout"), with nsmigrate's own registration: only
    the endpoint (slower than ``timeoutSeconds: 1``) and the namespaces it serves differ."""
    pki = dev.workdir / "webhook-certs"
    slow = SlowWebhook(pki / "tls.crt", pki / "tls.key", delay=3.0)
    settings = dataclasses.replace(SETTINGS, failure_policy=policy)  # type: ignore[arg-type]
    configuration = registration.configurations(
        url=slow.url, ca_bundle=(pki / "ca.crt").read_bytes(), settings=settings, timeout_seconds=1
    )[0]
    name, namespace = f"nsmigrate-conformance-{policy.lower()}", f"conformance-{policy.lower()}"
    configuration["metadata"]["name"] = name
    configuration["webhooks"][0]["namespaceSelector"] = {"matchLabels": {"nsmigrate.io/conformance": policy}}
    kube.apply(seed.namespace(namespace, {"nsmigrate.io/conformance": policy}))
    kube.apply(configuration)
    try:

        def called() -> bool:  # the API server picks a new registration up asynchronously
            with contextlib.suppress(ApiError):
                kube.apply(seed.deployment("probe", namespace, {}), dry_run=True)
            return slow.calls > 0

        eventually(called, timeout=30)
        outcome, seconds = timed(lambda: _create(kube, seed.deployment("slowpoke", namespace, {})))
    finally:
        kube.delete("MutatingWebhookConfiguration", None, name)
        slow.close()

    stored = kube.get("Deployment", namespace, "slowpoke")
    assert 1.0 <= seconds < slow.delay
    if policy == "Fail":
        assert isinstance(outcome, ApiError)
        assert stored is None
    else:
        assert stored is not None
        assert SlowWebhook.MARK not in stored["metadata"].get("annotations", {}), "admitted unchanged"
    result = "refused, nothing stored" if policy == "Fail" else "admitted unchanged (the late patch never applied)"
    figure(
        f"webhook answering in {slow.delay:.0f} s, registered with timeoutSeconds 1 and failurePolicy {policy}: "
        f"CREATE {result} after {seconds:.2f} s"
        + (f" ({outcome.message[:90]})" if isinstance(outcome, ApiError) else "")
    )


def _create(kube: Kube, manifest: JsonObject) -> ApiError | None:
    try:
        kube.create(manifest)
    except ApiError as error:
        return error
    return None
