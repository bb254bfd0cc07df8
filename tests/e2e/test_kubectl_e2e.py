"""``kubectl nsmigrate`` through a real kubectl: found on PATH as a plugin, kubectl's flags honoured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.e2e.helpers import with_proxy
from webhook.dev.controlplane import find_binaries
from webhook.dev.environment import DevEnvironment
from webhook.kube.client import Kube

pytestmark = pytest.mark.e2e
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def kubectl(dev: DevEnvironment) -> Kubectl:
    """kubectl (built once, like the control plane) with the package's scripts first on PATH."""
    binary = find_binaries("kubectl")["kubectl"]
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path, "KUBECONFIG": str(dev.kubeconfig)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(binary), *args], env=env, capture_output=True, text=True, timeout=60, check=False)

    return run


@pytest.fixture(scope="module")
def contexts(dev: DevEnvironment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kubeconfig whose current context reaches nothing, and whose context "real" (namespace old0
    unless a test says otherwise) reaches the dev cluster."""
    config = yaml.safe_load(dev.kubeconfig.read_text())
    real = config["contexts"][0]
    config["clusters"].append({"name": "nowhere", "cluster": {"server": "https://127.0.0.1:1"}})
    config["contexts"] = [
        {"name": "real", "context": {**real["context"]}},
        {"name": "nowhere", "context": {**real["context"], "cluster": "nowhere"}},
    ]
    config["current-context"] = "nowhere"
    path = tmp_path_factory.mktemp("kubeconfig") / "config"
    path.write_text(yaml.safe_dump(config))
    return path


def with_namespace(kubeconfig: Path, namespace: str) -> Path:
    config = yaml.safe_load(kubeconfig.read_text())
    config["contexts"][0]["context"]["namespace"] = namespace
    path = kubeconfig.with_name(f"config-{namespace}")
    path.write_text(yaml.safe_dump(config))
    return path


def test_kubectl_finds_the_plugin(kubectl: Kubectl) -> None:
    listed = kubectl("plugin", "list", "--name-only")
    assert "kubectl-nsmigrate" in listed.stdout.split()
    helped = kubectl("nsmigrate", "--help")
    assert helped.returncode == 0
    assert helped.stdout.startswith("usage: kubectl nsmigrate")


def test_status_as_json_and_yaml_through_kubectl(kubectl: Kubectl, kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    with_proxy(kube, old, new)
    as_json = kubectl("nsmigrate", "status", "-n", old, "-o", "json")
    assert as_json.returncode == 0, as_json.stderr
    (entry,) = json.loads(as_json.stdout)
    assert (entry["proxy"], entry["target"], entry["state"]) == (f"{old}/servicea", f"{new}/servicea", "in use")
    as_yaml = kubectl("nsmigrate", "status", "-n", old, "-o", "yaml")
    assert yaml.safe_load(as_yaml.stdout) == json.loads(as_json.stdout)
    wide = kubectl("nsmigrate", "status", "-n", old, "-o", "wide")
    assert f"{old}/servicea" in wide.stdout
    assert "in use" in wide.stdout


def test_graph_and_audit_through_kubectl(kubectl: Kubectl, kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    with_proxy(kube, old, new)
    graph = kubectl("nsmigrate", "graph", "-A", "-o", "json")
    assert graph.returncode == 0, graph.stderr
    assert f"{old}/service servicea" in json.loads(graph.stdout)["proxies"]
    audit = kubectl("nsmigrate", "audit", "-n", old, "-o", "json")
    assert (audit.returncode, json.loads(audit.stdout)) == (0, [])


def test_context_and_its_namespace_are_kubectls(
    kubectl: Kubectl, kube: Kube, names: tuple[str, str], contexts: Path
) -> None:
    old, new = names
    with_proxy(kube, old, new)
    nowhere = kubectl("nsmigrate", "status", "-n", old, "--kubeconfig", str(contexts))
    assert nowhere.returncode == 1
    assert nowhere.stderr.startswith("error: ")
    real = kubectl("nsmigrate", "status", "-n", old, "--kubeconfig", str(contexts), "--context", "real", "-o", "json")
    assert real.returncode == 0, real.stderr
    assert json.loads(real.stdout)[0]["proxy"] == f"{old}/servicea"

    # No -n: the context's namespace, as kubectl does (servicea there is a proxy: nothing to hand over).
    here = with_namespace(contexts, old)
    handover = kubectl("nsmigrate", "handover", "servicea", "--kubeconfig", str(here), "--context", "real")
    assert handover.returncode == 1
    assert f"{old}/servicea" in handover.stderr


def test_bad_usage_exits_2_through_kubectl(kubectl: Kubectl) -> None:
    for args in (["status", "-o", "xml"], ["handover", "deployment/appa"], ["nonsense"]):
        done = kubectl("nsmigrate", *args)
        assert done.returncode == 2, (args, done.stderr)
