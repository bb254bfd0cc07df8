"""The peer: Kyverno, built from the Go module proxy (``webhook/dev/build.sh kyverno``), run out of
cluster against the benchmark's control plane with the equivalent policy of bench/kyverno/.

What it needs to run there (it exits or silently skips work without each): its CRDs and namespace,
the ``KYVERNO_*``, ``INIT_CONFIG`` and ``METRICS_CONFIG`` environment, a ConfigMap with
``updateRequestThreshold`` (else generate rules are skipped), a URL registration on loopback (it makes
its own CA), a background service account allowed to manage Services (else the policy is refused),
its own metrics ports per binary (both default to :8000 and :8080), the secrets for the CA it makes,
and the background controller (the admission controller only queues
generate requests). Its webhooks are limited to namespaces labelled ``PEER_LABEL``; client rate
limits are raised so that its API calls are never throttled: nothing here makes the peer slower.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from webhook.core.fields import JsonObject
from webhook.dev.controlplane import find_binaries
from webhook.dev.processes import free_port, log_tail, start_process, stop_pid
from webhook.kube.client import ApiError, Kube

POLICY = Path(__file__).with_name("kyverno") / "clusterpolicy.yaml"
NAMESPACE = "kyverno"
PEER_LABEL = "bench.nsmigrate.io/migrate-from"
"""What marks the peer's migrating namespace, in place of nsmigrate's label (nsmigrate ignores it)."""
BACKGROUND_ACCOUNT = "kyverno-background-controller"
SECRETS = f"kyverno-svc.{NAMESPACE}.svc.kyverno-tls"
"""Where the admission controller keeps the CA and serving pair it makes (the chart's names)."""
UPDATE_REQUESTS = f"/apis/kyverno.io/v2/namespaces/{NAMESPACE}/updaterequests"


def apply_any(kube: Kube, manifest: JsonObject, *, plural: str) -> None:
    """Server-side apply of an object of any cluster-scoped kind (CRDs, ClusterPolicies)."""
    group_version = manifest["apiVersion"]
    path = f"/apis/{group_version}/{plural}/{manifest['metadata']['name']}"
    query = [("fieldManager", "nsmigrate-bench"), ("force", "true")]
    kube.request("PATCH", path, query=query, body=manifest, content_type="application/apply-patch+yaml")


@dataclass
class Kyverno:
    workdir: Path
    kubeconfig: Path
    pids: dict[str, int] = field(default_factory=dict)

    def start(self, kube: Kube) -> None:
        """Install, start both controllers, apply the policy; return once its mutations are served."""
        binary = find_binaries("kyverno")["kyverno"]
        self._install(kube, binary.parent / "crds")
        environment = os.environ | {
            "KYVERNO_NAMESPACE": NAMESPACE,
            "KYVERNO_SERVICEACCOUNT_NAME": "kyverno",
            "KYVERNO_DEPLOYMENT": "kyverno",
            "KYVERNO_POD_NAME": "kyverno-bench",
            "INIT_CONFIG": "kyverno",
            "METRICS_CONFIG": "kyverno-metrics",
        }
        common = [
            f"--kubeconfig={self.kubeconfig}",
            "--clientRateLimitQPS=1000",
            "--clientRateLimitBurst=2000",
            "--v=1",
        ]
        ports = [f"--metricsPort={free_port()}", f"--controllerRuntimeMetricsAddress=127.0.0.1:{free_port()}"]
        port = free_port()
        admission = [
            str(binary),
            *common,
            f"--serverIP=127.0.0.1:{port}",
            "--webhookServerHost=127.0.0.1",
            f"--webhookServerPort={port}",
            f"--backgroundServiceAccountName=system:serviceaccount:{NAMESPACE}:{BACKGROUND_ACCOUNT}",
            f"--caSecretName={SECRETS}-ca",
            f"--tlsSecretName={SECRETS}-pair",
            "--admissionReports=false",
            *ports,
        ]
        ports = [f"--metricsPort={free_port()}", f"--controllerRuntimeMetricsAddress=127.0.0.1:{free_port()}"]
        background = [str(binary.with_name("kyverno-background-controller")), *common, *ports]
        self.workdir.mkdir(parents=True, exist_ok=True)
        for name, args in (("admission", admission), ("background", background)):
            self.pids[name] = start_process(args, self.workdir / f"kyverno-{name}.log", env=environment).pid

    def apply_policy(self, kube: Kube, *, timeout: float = 120.0) -> None:
        """The policy, once Kyverno's policy webhook accepts it (Kyverno validates it on admission)."""
        policy = yaml.safe_load(POLICY.read_text())
        deadline = time.monotonic() + timeout
        while True:
            self._check_running()
            try:
                apply_any(kube, policy, plural="clusterpolicies")
                return
            except ApiError as error:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Kyverno did not take its policy: {error}") from None
                time.sleep(0.5)

    def stop(self) -> None:
        for pid in self.pids.values():
            stop_pid(pid)
        self.pids.clear()

    def rss_mib(self) -> dict[str, float]:
        """Resident memory of each controller, MiB."""
        return {name: _rss_mib(pid) for name, pid in self.pids.items()}

    def pending_update_requests(self, kube: Kube) -> int:
        """Generate requests the background controller has not finished."""
        items = kube.request("GET", UPDATE_REQUESTS).body.get("items") or []
        return sum(1 for item in items if (item.get("status") or {}).get("state") != "Completed")

    def drain(self, kube: Kube, *, timeout: float = 300.0) -> float:
        """Wait until the background controller has no pending generate request; seconds waited."""
        started = time.monotonic()
        while self.pending_update_requests(kube) and time.monotonic() - started < timeout:
            time.sleep(0.2)
        return time.monotonic() - started

    def _check_running(self) -> None:
        for name, pid in self.pids.items():
            if not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid):
                raise RuntimeError(f"kyverno {name} exited:\n{log_tail(self.workdir / f'kyverno-{name}.log')}")

    def _install(self, kube: Kube, crds: Path) -> None:
        for crd in sorted(crds.glob("*.yaml")):
            for document in yaml.safe_load_all(crd.read_text()):
                if document:
                    apply_any(kube, document, plural="customresourcedefinitions")
        kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        selector = {"namespaceSelector": {"matchExpressions": [{"key": PEER_LABEL, "operator": "Exists"}]}}
        for name, data in (
            ("kyverno", {"updateRequestThreshold": "1000", "webhooks": json.dumps(selector)}),
            ("kyverno-metrics", {}),
        ):
            kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NAMESPACE},
                        "data": data})  # fmt: skip
        for account in ("kyverno", BACKGROUND_ACCOUNT):
            kube.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": {"name": account, "namespace": NAMESPACE}})  # fmt: skip
            kube.apply(
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRoleBinding",
                    "metadata": {"name": f"bench-{account}"},
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "ClusterRole",
                        "name": "cluster-admin",
                    },
                    "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}],
                }
            )
        for name in ("clusterpolicies.kyverno.io", "updaterequests.kyverno.io"):
            _wait_established(kube, name)


def _wait_established(kube: Kube, name: str, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
    while time.monotonic() < deadline:
        conditions = (kube.request("GET", path).body.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
            return
        time.sleep(0.2)
    raise TimeoutError(f"CRD {name} not established in {timeout:.0f} s")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0]
    except (OSError, IndexError):
        return "gone"


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
