"""GitOps tools see no drift: once nsmigrate has rewritten a workload, a server-side diff of the same
manifest (what Argo CD's server-side diff and Flux run) is empty, and applying it again changes nothing."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.e2e.helpers import env_of, migrating
from webhook.core import labels
from webhook.dev import seed
from webhook.dev.controlplane import find_binaries
from webhook.dev.environment import DevEnvironment
from webhook.kube.client import Kube

pytestmark = pytest.mark.e2e
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def kubectl(dev: DevEnvironment) -> Kubectl:
    binary = find_binaries("kubectl")["kubectl"]
    env = {**os.environ, "KUBECONFIG": str(dev.kubeconfig)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(binary), *args], env=env, capture_output=True, text=True, timeout=60, check=False)

    return run


@pytest.fixture
def manifest(tmp_path: Path, kube: Kube, names: tuple[str, str]) -> tuple[Path, str]:
    """appa in the new namespace as its Git repository holds it: calling serviceb by its short name."""
    old, new = names
    migrating(kube, old, new)
    path = tmp_path / "appa.yaml"
    path.write_text(yaml.safe_dump(seed.deployment("appa", new, {"SERVICEB_URL": "http://serviceb/"})))
    return path, new


@pytest.mark.parametrize(
    "server_side",
    [pytest.param(["--server-side"], id="server-side-apply"), pytest.param([], id="client-side-apply")],
)
def test_a_rewritten_workload_shows_no_diff_and_a_reapply_changes_nothing(
    kubectl: Kubectl, kube: Kube, manifest: tuple[Path, str], server_side: list[str]
) -> None:
    path, new = manifest
    applied = kubectl("apply", *server_side, "-f", str(path))
    assert applied.returncode == 0, applied.stderr
    live = kube.get("Deployment", new, "appa")
    assert live is not None
    assert env_of(live)["SERVICEB_URL"].startswith("http://serviceb.old")  # nsmigrate rewrote it
    assert labels.REWRITTEN_ENV in live["metadata"]["annotations"]

    diff = kubectl("diff", *server_side, "-f", str(path))
    assert (diff.returncode, diff.stdout) == (0, ""), diff.stdout + diff.stderr

    again = kubectl("apply", *server_side, "-f", str(path))
    assert again.returncode == 0, again.stderr
    after = kube.get("Deployment", new, "appa")
    assert after is not None
    assert after["metadata"]["generation"] == live["metadata"]["generation"]
    assert after["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"]
