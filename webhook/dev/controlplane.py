"""A real local control plane: etcd and kube-apiserver on free loopback ports.

Serves the pytest session fixture, ``nsmigrate dev up``/``dev down`` and ``nsmigrate demo``.
Processes run in their own session so that ``dev up`` can return and leave them running.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from webhook.core import certs
from webhook.core.clientauth import API_SERVER_CLIENT_NAME
from webhook.core.fields import JsonObject
from webhook.dev.processes import alive, free_port, log_tail, start_process, stop_pid

BUILD_SCRIPT = Path(__file__).with_name("build.sh")


AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [{"level": "Metadata", "verbs": ["delete", "deletecollection"]}, {"level": "None"}],
}
"""Deletions are recorded at Metadata level: enough to see who deleted what, and webhook annotations."""


KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
COMPONENTS = ("controller-manager", "scheduler", "kwok", "coredns")
"""Optional components: Deployments that roll out on fake nodes, and cluster DNS."""
COMPONENT_BINARIES = {
    "controller-manager": "kube-controller-manager",
    "scheduler": "kube-scheduler",
    "kwok": "kwok",
    "coredns": "coredns",
}
COREFILE = """.:{port} {{
    bind 127.0.0.1
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig} nsmigrate-dev
        fallthrough in-addr.arpa ip6.arpa
        ttl 1
    }}
}}
"""


class ControlPlaneError(RuntimeError):
    """The control plane could not be built or started; the message says why."""


Binaries = Mapping[str, Path]


def find_binaries(*names: str) -> dict[str, Path]:
    """Paths of the named binaries (default etcd and kube-apiserver): from KUBEBUILDER_ASSETS, the
    cache, or a fresh build from the Go module proxy."""
    done = subprocess.run(["bash", str(BUILD_SCRIPT), *names], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise ControlPlaneError(
            f"building {' '.join(names) or 'etcd and kube-apiserver'} failed ({BUILD_SCRIPT}):\n{tail}"
        )
    found = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return {name: Path(path) for name, path in found.items()}


@dataclass
class ControlPlane:
    """etcd + kube-apiserver under ``workdir``; ``kubeconfig`` grants cluster-admin (system:masters)."""

    workdir: Path
    pids: dict[str, int] = field(default_factory=dict)
    apiserver_port: int = 0
    dns_port: int = 0
    apiserver_args: list[str] = field(default_factory=list)
    etcd_args: list[str] = field(default_factory=list)

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    @property
    def audit_log(self) -> Path:
        """The API server's audit log (JSON lines): where webhooks' auditAnnotations land."""
        return self.workdir / "audit.log"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.apiserver_port}"

    def start(self, binaries: Binaries | None = None, *, timeout: float = 90.0) -> None:
        """Start etcd and kube-apiserver and wait until ready; on failure, stop what was started."""
        try:
            self._start(binaries or find_binaries(), timeout=timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, binaries: Binaries, *, timeout: float) -> None:
        # Every start is a fresh cluster: a previous run's etcd data would bring back its objects.
        shutil.rmtree(self.workdir / "etcd", ignore_errors=True)
        pki = self.workdir / "pki"
        ca = certs.make_ca("nsmigrate-dev-cluster-ca")
        ca.write(pki, "ca")
        certs.make_serving_cert(
            ca, dns_names=["localhost", "kubernetes", "kubernetes.default.svc"], ip_addresses=["127.0.0.1", "10.96.0.1"]
        ).write(pki, "apiserver")
        admin = certs.make_client_cert(ca, user="nsmigrate-dev-admin", groups=["system:masters"])
        admin.write(pki, "admin")
        self._write_admission_config(pki)
        certs.make_ca("service-accounts").write(pki, "service-accounts")
        (self.workdir / "audit-policy.json").write_text(json.dumps(AUDIT_POLICY))

        etcd_port, peer_port = free_port(), free_port()
        self.apiserver_port = free_port()
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        self.etcd_args = [
            str(binaries["etcd"]),
            f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=default={peer_url}",
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        ]
        self.pids["etcd"] = start_process(self.etcd_args, self.workdir / "etcd.log").pid
        self.apiserver_args = [
            str(binaries["kube-apiserver"]),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.apiserver_port}",
            f"--cert-dir={pki}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            "--authorization-mode=RBAC",
            f"--service-account-key-file={pki / 'service-accounts.crt'}",
            f"--service-account-signing-key-file={pki / 'service-accounts.key'}",
            "--service-account-issuer=https://kubernetes.default.svc",
            "--service-cluster-ip-range=10.96.0.0/12",
            "--disable-admission-plugins=ServiceAccount",
            "--allow-privileged=true",
            "--enable-priority-and-fairness=false",
            "--endpoint-reconciler-type=none",  # a loopback advertise address is otherwise refused
            f"--audit-policy-file={self.workdir / 'audit-policy.json'}",
            f"--audit-log-path={self.audit_log}",
            f"--admission-control-config-file={self.workdir / 'admission.json'}",
            "--v=1",
        ]
        self.pids["kube-apiserver"] = start_process(self.apiserver_args, self.workdir / "kube-apiserver.log").pid
        self._write_kubeconfig(ca, admin)
        self._wait_ready(timeout=timeout)

    def start_components(self, binaries: Binaries, components: Sequence[str]) -> None:
        """Start components beside the API server: ``controller-manager``, ``scheduler``, ``kwok``
        (fake nodes whose pods become Ready) and ``coredns`` (cluster DNS on a loopback port)."""
        pki = self.workdir / "pki"
        kubeconfig = f"--kubeconfig={self.kubeconfig}"
        commands = {
            "controller-manager": [
                str(binaries["kube-controller-manager"]), kubeconfig,
                f"--authentication-kubeconfig={self.kubeconfig}", f"--authorization-kubeconfig={self.kubeconfig}",
                "--leader-elect=false", "--bind-address=127.0.0.1", f"--secure-port={free_port()}",
                f"--service-account-private-key-file={pki / 'service-accounts.key'}",
                f"--root-ca-file={pki / 'ca.crt'}", "--use-service-account-credentials=false",
                "--controllers=*,-nodeipam,-nodelifecycle,-csrsigning,-csrapproving,-csrcleaner",
                "--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10", "--v=1",
            ],
            "scheduler": [
                str(binaries["kube-scheduler"]), kubeconfig,
                f"--authentication-kubeconfig={self.kubeconfig}", f"--authorization-kubeconfig={self.kubeconfig}",
                "--leader-elect=false", "--bind-address=127.0.0.1", f"--secure-port={free_port()}", "--v=1",
            ],
            "kwok": [
                str(binaries["kwok"]), kubeconfig, f"--config={binaries['kwok'].with_name('stages.yaml')}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
                "--cidr=10.244.0.0/16", "--node-ip=10.244.0.1", f"--server-address=127.0.0.1:{free_port()}",
            ],
        }  # fmt: skip
        for component in components:
            if component == "coredns":
                self.dns_port = free_port()
                corefile = self.workdir / "Corefile"
                corefile.write_text(COREFILE.format(port=self.dns_port, kubeconfig=self.kubeconfig))
                commands["coredns"] = [str(binaries["coredns"]), "-conf", str(corefile)]
            self.pids[component] = start_process(commands[component], self.workdir / f"{component}.log").pid

    def fake_node_manifest(self, name: str = "kwok-node-0") -> JsonObject:
        """A Node that kwok manages: it turns Ready, and the pods scheduled on it run and turn Ready."""
        capacity = {"cpu": "64", "memory": "256Gi", "pods": "1000"}
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "annotations": {KWOK_NODE_ANNOTATION: "fake"},
                "labels": {"type": "kwok", "kubernetes.io/hostname": name},
            },
            # Created without the not-ready taint the API server would add: no node lifecycle
            # controller runs here to lift it.
            "spec": {"taints": []},
            "status": {"allocatable": capacity, "capacity": capacity},
        }

    def restart_apiserver(self, *, timeout: float = 90.0) -> None:
        """Stop kube-apiserver and start it again on the same port, over the same etcd."""
        stop_pid(self.pids.pop("kube-apiserver"))
        self.pids["kube-apiserver"] = start_process(self.apiserver_args, self.workdir / "kube-apiserver.log").pid
        self._wait_ready(timeout=timeout)

    def restart_etcd(self, *, timeout: float = 90.0) -> None:
        """Stop etcd and start it again on the same ports and data; return once the API server is ready."""
        stop_pid(self.pids.pop("etcd"))
        self.pids["etcd"] = start_process(self.etcd_args, self.workdir / "etcd.log").pid
        self._wait_ready(timeout=timeout)

    def stop(self) -> None:
        for name in ("coredns", "kwok", "scheduler", "controller-manager", "kube-apiserver", "etcd"):
            if name in self.pids:
                stop_pid(self.pids.pop(name))

    @property
    def admission_client_ca(self) -> Path:
        """The CA of the client certificate the API server presents to every admission webhook."""
        return self.workdir / "pki" / "admission-client-ca.crt"

    @property
    def admission_client(self) -> tuple[Path, Path]:
        """That client certificate and its key (subject ``clientauth.API_SERVER_CLIENT_NAME``)."""
        pki = self.workdir / "pki"
        return pki / "admission-client.crt", pki / "admission-client.key"

    def _write_admission_config(self, pki: Path) -> None:
        """An AdmissionConfiguration giving both webhook plugins a kubeconfig whose ``*`` user is a client
        certificate: the API server presents it to every webhook, as issue 14 asks clusters to do."""
        client_ca = certs.make_ca("nsmigrate-dev-admission-client-ca")
        client_ca.write(pki, "admission-client-ca")
        cert, key = certs.make_client_cert(client_ca, user=API_SERVER_CLIENT_NAME).write(pki, "admission-client")
        kubeconfig = self.workdir / "admission-kubeconfig.json"
        user = {"name": "*", "user": {"client-certificate": str(cert), "client-key": str(key)}}
        kubeconfig.write_text(json.dumps({"apiVersion": "v1", "kind": "Config", "users": [user]}))
        plugin = {
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "WebhookAdmissionConfiguration",
            "kubeConfigFile": str(kubeconfig),
        }
        admission = {
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "AdmissionConfiguration",
            "plugins": [
                {"name": name, "configuration": plugin}
                for name in ("ValidatingAdmissionWebhook", "MutatingAdmissionWebhook")
            ],
        }
        (self.workdir / "admission.json").write_text(json.dumps(admission))

    def _write_kubeconfig(self, ca: certs.KeyPair, admin: certs.KeyPair) -> None:
        def b64(data: bytes) -> str:
            return base64.b64encode(data).decode()

        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "nsmigrate-dev",
                    "cluster": {"server": self.server, "certificate-authority-data": b64(ca.cert_pem)},
                }
            ],
            "users": [
                {
                    "name": "admin",
                    "user": {"client-certificate-data": b64(admin.cert_pem), "client-key-data": b64(admin.key_pem)},
                }
            ],
            "contexts": [{"name": "nsmigrate-dev", "context": {"cluster": "nsmigrate-dev", "user": "admin"}}],
            "current-context": "nsmigrate-dev",
        }
        fd = os.open(self.kubeconfig, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(config, out, indent=2)

    def _wait_ready(self, *, timeout: float) -> None:
        pki = self.workdir / "pki"
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(pki / "admin.crt", pki / "admin.key")
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            for name, pid in self.pids.items():
                if not alive(pid):
                    raise ControlPlaneError(f"{name} exited during start-up:\n{log_tail(self.workdir / f'{name}.log')}")
            try:
                with urllib.request.urlopen(f"{self.server}/readyz", context=context, timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except OSError as error:
                last = str(error)
            time.sleep(0.2)
        raise ControlPlaneError(
            f"kube-apiserver not ready after {timeout:.0f} s ({last}):\n{log_tail(self.workdir / 'kube-apiserver.log')}"
        )
