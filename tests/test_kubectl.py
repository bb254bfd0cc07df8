"""The kubectl plugin: kubectl's flags translated into the nsmigrate commands' own, krew's conventions."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from webhook.cli import kubectl
from webhook.cli import main as nsmigrate

KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
    "users": [{"name": "u", "user": {"token": "t"}}],
    "contexts": [
        {"name": "here", "context": {"cluster": "c", "user": "u", "namespace": "foobar"}},
        {"name": "bare", "context": {"cluster": "c", "user": "u"}},
    ],
    "current-context": "here",
}


@pytest.fixture
def kubeconfig(tmp_path: Path) -> str:
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(KUBECONFIG))
    return str(path)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(["status"], ["status"], id="status"),
        pytest.param(
            ["status", "-n", "foo", "-o", "json"], ["status", "--namespace=foo", "--output", "json"], id="status-n-o"
        ),
        pytest.param(["status", "-n", "foo", "-A"], ["status"], id="all-namespaces-wins"),
        pytest.param(["status", "-o", "wide"], ["status", "--output", "text"], id="wide-is-the-table"),
        pytest.param(["audit", "-o", "yaml", "--since", "2h"], ["audit", "--since=2h", "--output", "yaml"], id="audit"),
        pytest.param(
            ["plan", "-f", "app.yaml", "-n", "foo"], ["plan", "--filename=app.yaml", "--to=foo"], id="plan-n-is-where"
        ),
        pytest.param(["graph", "-o", "dot", "-n", "foo"], ["graph", "--namespace=foo", "--output", "dot"], id="graph"),
        pytest.param(["handover", "servicea", "-n", "foobar"], ["handover", "foobar/servicea"], id="handover-name"),
        pytest.param(["rollback", "svc/servicea", "-n", "foobar"], ["rollback", "foobar/servicea"], id="type-slash"),
        pytest.param(
            ["status", "--context", "prod", "--kubeconfig", "k"],
            ["status", "--kubeconfig=k", "--context=prod"],
            id="context-kubeconfig",
        ),
    ],
)
def test_kubectl_flags_become_the_commands_own(argv: list[str], expected: list[str]) -> None:
    assert kubectl.translate(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["status", "-n", "foo", "-o", "yaml", "--context", "c"], id="status"),
        pytest.param(["plan", "-f", "x.yaml", "-n", "foo", "-o", "json"], id="plan"),
        pytest.param(["audit", "-n", "foo", "-o", "wide"], id="audit"),
        pytest.param(["graph", "-o", "yaml", "--cluster-domain", "corp.local"], id="graph"),
        pytest.param(["handover", "servicea", "-n", "foobar", "--context", "c"], id="handover"),
        pytest.param(["rollback", "service/servicea", "-n", "foobar"], id="rollback"),
        pytest.param(["finalize", "servicea", "-n", "foobar", "--kubeconfig", "k"], id="finalize"),
    ],
)
def test_every_translation_is_understood_by_nsmigrate(argv: list[str]) -> None:
    args = nsmigrate._parser().parse_args(kubectl.translate(argv))
    assert callable(args.run)


def test_a_service_without_n_is_in_the_contexts_namespace(kubeconfig: str) -> None:
    assert kubectl.translate(["handover", "servicea", "--kubeconfig", kubeconfig]) == [
        "handover", "foobar/servicea", f"--kubeconfig={kubeconfig}",
    ]  # fmt: skip
    bare = kubectl.translate(["rollback", "servicea", "--kubeconfig", kubeconfig, "--context", "bare"])
    assert bare[:2] == ["rollback", "default/servicea"]


def test_a_service_of_another_type_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert kubectl.main(["handover", "deployment/appa", "-n", "foo"]) == 2
    assert "expected NAME or service/NAME" in capsys.readouterr().err


def test_unknown_flags_and_formats_are_bad_usage() -> None:
    for argv in (["status", "-o", "xml"], ["status", "--bogus"], ["graph", "-o", "wide"], ["serve"]):
        with pytest.raises(SystemExit) as exited:
            kubectl.main(argv)
        assert exited.value.code == 2


def test_no_command_prints_the_usage_and_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert kubectl.main([]) == 2
    assert "usage: kubectl nsmigrate" in capsys.readouterr().err


def test_help_names_the_plugin_as_kubectl_shows_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        kubectl.main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: kubectl nsmigrate")
    assert all(command in out for command in ("status", "plan", "audit", "graph", "handover", "rollback", "finalize"))


def test_a_failing_command_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kubectl.main(["status", "--kubeconfig", str(tmp_path / "missing")]) == 1
    assert capsys.readouterr().err.startswith("error: ")


def test_the_plugin_is_installed_under_krews_name() -> None:
    scripts = importlib.metadata.entry_points(group="console_scripts")
    (plugin,) = [script for script in scripts if script.name == "kubectl-nsmigrate"]
    assert plugin.value == "webhook.cli.kubectl:main"
    assert (Path(sys.executable).parent / "kubectl-nsmigrate").exists()


def test_the_krew_manifest_installs_that_executable() -> None:
    manifest = yaml.safe_load((Path(__file__).parents[1] / "deploy" / "krew" / "nsmigrate.yaml").read_text())
    assert (manifest["kind"], manifest["metadata"]["name"]) == ("Plugin", "nsmigrate")
    assert manifest["spec"]["version"] == f"v{importlib.metadata.version('nsmigrate')}"
    assert len(manifest["spec"]["shortDescription"]) <= 50
    for platform in manifest["spec"]["platforms"]:
        assert platform["bin"] == "kubectl-nsmigrate"


def test_the_command_line_loads_no_development_tooling() -> None:
    """``nsmigrate serve`` in the image: webhook.dev is left out there, so nothing may import it."""
    probe = "import sys, webhook.cli.main, webhook.http.server; print(sorted(m for m in sys.modules if 'dev' in m))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "webhook.dev" not in loaded


def test_without_the_development_tooling_demo_says_so() -> None:
    probe = "import sys; sys.modules['webhook.dev'] = None; from webhook.cli.main import main; sys.exit(main(['demo']))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "needs the development tooling" in done.stderr
