"""The dev environment: a control plane, the webhook serving over TLS, and its registration.

``up`` returns once the API server really calls the webhook; the state is kept in ``workdir`` so
that ``down`` (another process, later) can stop it all.
"""

from __future__ import annotations

import dataclasses
import json
import os
import ssl
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from webhook.core import certs, labels
from webhook.core.fields import JsonObject
from webhook.core.settings import Settings, from_env, to_env
from webhook.core.waiting import poll_until
from webhook.dev import registration
from webhook.dev.controlplane import COMPONENT_BINARIES, ControlPlane, ControlPlaneError, find_binaries
from webhook.dev.processes import free_port, log_tail, start_process, stop_pid
from webhook.kube.client import ApiError, Kube, path_of

PROBE_NAMESPACE = "nsmigrate-probe"


@dataclass
class DevEnvironment:
    workdir: Path
    control_plane: ControlPlane = field(init=False)
    webhook_pid: int = 0
    webhook_port: int = 0

    def __post_init__(self) -> None:
        self.control_plane = ControlPlane(self.workdir / "control-plane")

    @property
    def kubeconfig(self) -> Path:
        return self.control_plane.kubeconfig

    @property
    def state_file(self) -> Path:
        return self.workdir / "state.json"

    def up(self, settings: Settings | None = None, *, components: Sequence[str] = ()) -> None:
        """Start everything and register the webhook; on any failure, stop what was started.

        ``components`` (see ``controlplane.COMPONENTS``) add a controller manager, a scheduler, kwok
        with one fake node, and CoreDNS: Deployments then really roll out and names really resolve."""
        settings = settings or from_env()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.control_plane.workdir.mkdir(parents=True, exist_ok=True)
        try:
            binaries = find_binaries("etcd", "kube-apiserver", *(COMPONENT_BINARIES[c] for c in components))
            self.control_plane.start(binaries)
            self._save()
            kube = Kube.connect(str(self.kubeconfig))
            if components:
                self.control_plane.start_components(binaries, components)
                self._save()
                add_fake_node(kube, self.control_plane.fake_node_manifest())
            kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": settings.own_namespace}})
            ca = self._start_webhook(settings)
            self._save()
            url = f"https://127.0.0.1:{self.webhook_port}"
            for configuration in registration.configurations(url=url, ca_bundle=ca.cert_pem, settings=settings):
                kube.apply(configuration)
            wait_until_called(kube)
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        if self.webhook_pid:
            stop_pid(self.webhook_pid)
            self.webhook_pid = 0
        self.control_plane.stop()
        self.state_file.unlink(missing_ok=True)

    @classmethod
    def load(cls, workdir: Path) -> DevEnvironment | None:
        """The environment a previous ``up`` left in ``workdir``, if any."""
        try:
            state = json.loads((workdir / "state.json").read_text())
        except (OSError, ValueError):
            return None
        environment = cls(workdir)
        environment.control_plane.pids = dict(state.get("control_plane_pids", {}))
        environment.control_plane.apiserver_port = int(state.get("apiserver_port", 0))
        environment.control_plane.dns_port = int(state.get("dns_port", 0))
        environment.webhook_pid = int(state.get("webhook_pid", 0))
        environment.webhook_port = int(state.get("webhook_port", 0))
        return environment

    def _save(self) -> None:
        state = {
            "dns_port": self.control_plane.dns_port,
            "control_plane_pids": self.control_plane.pids,
            "apiserver_port": self.control_plane.apiserver_port,
            "webhook_pid": self.webhook_pid,
            "webhook_port": self.webhook_port,
            "kubeconfig": str(self.kubeconfig),
        }
        self.state_file.write_text(json.dumps(state, indent=2))

    def _start_webhook(self, settings: Settings) -> certs.KeyPair:
        """Serve the webhook on a free loopback port with a fresh CA; return that CA."""
        pki = self.workdir / "webhook-certs"
        ca = certs.make_ca("nsmigrate-dev-webhook-ca")
        ca.write(pki, "ca")
        certs.make_serving_cert(ca, dns_names=["localhost"], ip_addresses=["127.0.0.1"]).write(pki, "tls")
        self.webhook_port = free_port()
        # It serves this control plane and hears its API server, whatever NSMIGRATE_KUBECONFIG and
        # NSMIGRATE_CLIENT_CA_FILE say in the shell that runs `dev up`.
        settings = dataclasses.replace(settings, kubeconfig=None, client_ca_file="")
        self.webhook_pid = self.serve(settings, port=self.webhook_port, log=self.workdir / "webhook.log")
        return ca

    def serve(self, settings: Settings, *, port: int, log: Path, module: str = "webhook") -> int:
        """One more ``nsmigrate serve`` process against this control plane (its certificates default
        to the dev webhook's, its client CA to the one of the API server's admission certificate, its
        kubeconfig to the control plane's); its pid, once ``/readyz`` answers. The caller stops it."""
        pki = self.workdir / "webhook-certs"
        cert_file = settings.cert_file if settings.cert_secret else str(pki / "tls.crt")
        key_file = settings.key_file if settings.cert_secret else str(pki / "tls.key")
        args = [
            sys.executable, "-m", module, "serve",
            "--host", "127.0.0.1",
            "--port", str(port),
            "--cert-file", cert_file,
            "--key-file", key_file,
            "--kubeconfig", settings.kubeconfig or str(self.kubeconfig),
        ]  # fmt: skip
        if not settings.client_ca_file:  # only the dev API server is heard, as in a cluster
            settings = dataclasses.replace(settings, client_ca_file=str(self.control_plane.admission_client_ca))
        environment = os.environ | to_env(settings) | {"MALLOC_ARENA_MAX": "2"}
        pid = start_process(args, log, env=environment).pid
        # Readiness only: whether its certificate is trusted is for the caller to check.
        unverified = ssl.create_default_context()
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                url = f"https://127.0.0.1:{port}/readyz"
                with urllib.request.urlopen(url, context=unverified, timeout=2) as answer:
                    if answer.status == 200:
                        return pid
            except OSError:
                time.sleep(0.1)
        stop_pid(pid)
        raise ControlPlaneError(f"the webhook was not ready on port {port} in 60 s:\n{log_tail(log)}")


def add_fake_node(kube: Kube, node: JsonObject) -> None:
    """Register a kwok node, without the not-ready taint (no node lifecycle controller lifts it here)."""
    kube.request("POST", path_of("Node"), body=node)
    path = path_of("Node", None, node["metadata"]["name"])
    if kube.request("GET", path).body.get("spec", {}).get("taints"):
        kube.request("PATCH", path, body={"spec": {"taints": None}}, content_type="application/merge-patch+json")


def wait_until_called(kube: Kube, *, timeout: float = 30.0) -> None:
    """Return once the API server sends reviews to the webhook (its registration is picked up
    asynchronously). Probes with server-side dry-run in a throw-away namespace, then removes it."""
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": PROBE_NAMESPACE, "labels": {labels.MIGRATE_FROM: f"{PROBE_NAMESPACE}-source"}},
        }
    )
    probe = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "probe", "namespace": PROBE_NAMESPACE},
        "spec": {
            "selector": {"matchLabels": {"app": "probe"}},
            "template": {
                "metadata": {"labels": {"app": "probe"}},
                "spec": {"containers": [{"name": "probe", "image": "registry.k8s.io/pause:3.10"}]},
            },
        },
    }

    def called() -> bool:
        return any(w.startswith("nsmigrate:") for w in kube.apply(probe, dry_run=True).warnings)

    try:
        poll_until(called, timeout=timeout, interval=0.1, what="the API server calling the webhook")
    except TimeoutError as error:
        raise ControlPlaneError(str(error)) from None
    finally:
        remove_namespace(kube, PROBE_NAMESPACE)


def remove_namespace(kube: Kube, name: str) -> None:
    """Delete an empty namespace at once, finalizing it as the namespace controller would."""
    try:
        kube.delete("Namespace", None, name)
        kube.request(
            "PUT",
            f"/api/v1/namespaces/{name}/finalize",
            body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "spec": {"finalizers": []}},
        )
    except ApiError as error:
        if error.status != 404:
            raise
