"""The operator commands (status, plan, audit, graph) against the real API server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.e2e.helpers import apply_all, eventually, migrating, refused, with_proxy
from webhook.cli.main import main as cli
from webhook.dev import seed
from webhook.dev.environment import DevEnvironment
from webhook.kube.client import Kube

pytestmark = pytest.mark.e2e


def run(dev: DevEnvironment, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli([*args, "--kubeconfig", str(dev.kubeconfig)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def status_of(dev: DevEnvironment, capsys: pytest.CaptureFixture[str], namespace: str) -> list[dict[str, object]]:
    code, out, _ = run(dev, capsys, "status", "-n", namespace, "-o", "json")
    assert code == 0
    return list(json.loads(out))


def test_status_follows_a_proxy_from_in_use_to_safe_to_orphan(
    dev: DevEnvironment, kube: Kube, names: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = names
    with_proxy(kube, old, new)
    (entry,) = status_of(dev, capsys, old)
    assert entry["proxy"] == f"{old}/servicea"
    assert entry["target"] == f"{new}/servicea"
    assert entry["state"] == "in use"
    assert entry["safe_to_delete"] is False
    assert entry["callers"] == [
        {"kind": "deployment", "namespace": old, "name": "appc", "where": ["env SERVICEA_URL"], "used_by": []}
    ]

    kube.apply(seed.deployment("appc", old, {"SERVICEA_URL": f"http://servicea.{new}.svc.cluster.local/"}))
    (entry,) = status_of(dev, capsys, old)
    assert (entry["state"], entry["safe_to_delete"]) == ("safe to delete", True)

    code, out, _ = run(dev, capsys, "status", "-n", old)
    assert code == 0
    assert f"{old}/servicea" in out
    assert "safe to delete" in out


def test_status_lists_live_services_awaiting_handover_with_the_reason(
    dev: DevEnvironment, kube: Kube, names: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = names
    migrating(kube, old, new, retire=False)
    apply_all(kube, seed.app("a", new))  # no controller runs in this environment: never Available
    waiting = [entry for entry in status_of(dev, capsys, old) if entry["state"] == "awaiting handover"]
    assert waiting == [
        {
            "proxy": f"{old}/servicea",
            "target": f"{new}/servicea",
            "state": "awaiting handover",
            "ready": False,
            "reason": f"{new}/appa not Available: 0/1 ready",
            "owner": None,
            "owner_advice": "",
            "safe_to_delete": False,
            "callers": [],
        }
    ]


def test_plan_shows_rewrites_proxies_handovers_and_callers_and_writes_nothing(
    dev: DevEnvironment, kube: Kube, names: tuple[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old, new = names
    far = f"{old}-far"
    migrating(kube, old, new, retire=False)
    apply_all(
        kube, [seed.namespace(far), seed.deployment("report", far, {"A": f"http://servicea.{old}.svc.cluster.local/"})]
    )
    (tmp_path / "app.yaml").write_text(yaml.safe_dump_all([*seed.app("a", "anything"), *seed.app("c", "anything")]))
    before = sorted(s["metadata"]["name"] for s in kube.list_all("Service", new))

    code, out, _ = run(dev, capsys, "plan", "-f", str(tmp_path), "--to", new, "-o", "json")
    assert code == 0
    plans = {plan["workload"]: plan for plan in json.loads(out)}
    appa = plans[f"deployment {new}/appa"]
    assert appa["rewrites"] == [
        {
            "container": "appa",
            "env": "SERVICEB_URL",
            "from": "http://serviceb/",
            "to": f"http://serviceb.{old}.svc.cluster.local/",
        }
    ]
    (handover,) = appa["proxies"]
    assert (handover["proxy"], handover["action"]) == (f"{old}/servicea", "handover")
    assert {(c["namespace"], c["name"]) for c in handover["held_by"]} == {(old, "appc"), (far, "report")}
    assert plans[f"deployment {new}/appc"]["rewrites"] == []  # servicea comes along: a local name then
    assert sorted(s["metadata"]["name"] for s in kube.list_all("Service", new)) == before

    code, out, _ = run(dev, capsys, "plan", "-f", str(tmp_path / "app.yaml"), "--to", new)
    assert f"rewrite env SERVICEB_URL (appa): http://serviceb/ -> http://serviceb.{old}.svc.cluster.local/" in out
    assert f"handover of the live Service, once Available: {old}/servicea -> {new}/servicea" in out
    assert f"it keeps its cluster IP, ports and node ports; its endpoints become {new}/servicea's" in out


def test_audit_lists_denials_from_events_and_from_the_log(
    dev: DevEnvironment, kube: Kube, names: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = names
    with_proxy(kube, old, new)
    refused(kube, old)

    def audited() -> list[dict[str, object]]:
        code, out, _ = run(
            dev, capsys, "audit", "--since", "1h", "--log", str(dev.workdir / "webhook.log"), "-o", "json"
        )
        assert code == 0
        found = [entry for entry in json.loads(out) if entry["proxy"] == f"{old}/servicea"]
        return found if {entry["source"] for entry in found} == {"event", "log"} else []

    entries = eventually(audited)
    logged = next(entry for entry in entries if entry["source"] == "log")
    assert logged["event"] == "proxy_deletion_denied"
    assert logged["user"] == "nsmigrate-dev-admin"
    assert logged["callers"] == [f"deployment {old}/appc (env SERVICEA_URL)"]

    code, _, err = run(dev, capsys, "audit", "--since", "yesterday")
    assert (code, err.strip()) == (1, "error: --since takes a duration like 30s, 15m, 2h or 7d, not 'yesterday'")


def test_graph_draws_callers_and_proxies(
    dev: DevEnvironment, kube: Kube, names: tuple[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old, new = names
    with_proxy(kube, old, new)
    code, out, _ = run(dev, capsys, "graph", "-n", old, "-n", new, "-o", "json")
    assert code == 0
    drawn = json.loads(out)
    assert f"{old}/service servicea" in drawn["proxies"]
    assert {"from": f"{old}/service servicea", "to": f"{new}/service servicea", "proxy": True} in drawn["edges"]
    assert {"from": f"{old}/deployment appc", "to": f"{old}/service servicea", "proxy": False} in drawn["edges"]
    assert {"from": f"{new}/deployment appa", "to": f"{old}/service serviceb", "proxy": False} in drawn["edges"]

    code, out, _ = run(dev, capsys, "graph", "-n", old, "-n", new)
    assert out.startswith("flowchart LR")
    assert "(proxy)" in out
    assert "-.->|proxy for|" in out
    code, out, _ = run(dev, capsys, "graph", "-n", old, "-n", new, "-o", "dot")
    assert out.startswith("digraph nsmigrate {")

    png = tmp_path / "graph.png"
    code, out, err = run(dev, capsys, "graph", "-n", old, "-n", new, "-o", "png", "--out", str(png))
    if shutil.which("dot"):
        assert code == 0
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert (code, err.strip()) == (1, "error: -o png needs Graphviz's `dot` on PATH (apt-get install graphviz); "
                                          "-o dot or mermaid need nothing")  # fmt: skip


def test_expected_errors_read_like_kubectl(dev: DevEnvironment, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(dev, capsys, "status", "-n", "no-such-namespace")
    assert (code, out, err) == (1, "", 'error: namespaces "no-such-namespace" not found\n')
    code = cli(["status", "--kubeconfig", str(dev.workdir / "missing-kubeconfig")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ")
    assert "Traceback" not in err
