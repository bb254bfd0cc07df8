"""``nsmigrate dev up`` / ``dev down`` as a new user runs them: every ``up`` starts a fresh cluster,
over a stopped one or a running one, and ``down`` leaves no process behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from webhook.cli.main import main
from webhook.core.fields import JsonObject
from webhook.dev.environment import DevEnvironment
from webhook.kube.client import Kube

MARKER: JsonObject = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "left-by-the-previous-up"}}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _pids(state_dir: Path) -> list[int]:
    environment = DevEnvironment.load(state_dir)
    assert environment is not None, "dev up leaves its state behind"
    return [*environment.control_plane.pids.values(), environment.webhook_pid]


def _up(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> Kube:
    assert main(["dev", "--dir", str(state_dir), "up", "--bare"]) == 0
    kubeconfig = capsys.readouterr().out.strip().splitlines()[-1]
    kube = Kube.connect(kubeconfig)
    assert kube.get("Namespace", None, MARKER["metadata"]["name"]) is None, "a fresh cluster has no old objects"
    kube.apply(MARKER)
    return kube


def test_up_down_up_and_up_over_a_running_one_start_fresh(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state_dir = tmp_path / "dev"
    try:
        _up(state_dir, capsys)
        first = _pids(state_dir)
        assert main(["dev", "--dir", str(state_dir), "down"]) == 0
        assert not [pid for pid in first if _alive(pid)], "dev down stops every process it started"

        _up(state_dir, capsys)  # after down
        second = _pids(state_dir)
        _up(state_dir, capsys)  # over a running one
        assert not [pid for pid in second if _alive(pid)], "an up over a running one stops the old one first"
    finally:
        last = _pids(state_dir) if DevEnvironment.load(state_dir) else []
        main(["dev", "--dir", str(state_dir), "down"])
    assert not [pid for pid in last if _alive(pid)]
