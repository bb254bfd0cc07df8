"""References as real manifests write them, through a real kube-apiserver: pod names, args, command,
and ConfigMaps in a namespace that asks for them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from webhook.cli.main import main as cli
from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.dev import seed
from webhook.dev.environment import DevEnvironment
from webhook.kube.client import Kube

pytestmark = pytest.mark.e2e


def moving(kube: Kube, old: str, new: str, *services: str) -> None:
    """``old`` holding these Services; ``new`` migrating from it and asking for its ConfigMaps too."""
    kube.apply(seed.namespace(old, {labels.SOURCE: "true"}))
    for name in services:
        kube.apply(seed.service(name, old, name))
    kube.apply(seed.namespace(new, {labels.MIGRATE_FROM: old, labels.REWRITE_CONFIGMAPS: "true"}))


def test_pod_names_args_and_command_are_rewritten_and_identifiers_are_not(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    moving(kube, old, new, "kafka-headless", "api", "redis", "cart")
    deployment = seed.deployment("shop", new, {"BROKERS": "kafka-0.kafka-headless:9092", "OTEL_SERVICE_NAME": "cart"})
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["/wait-for", "redis:6379", "--"]
    container["args"] = ["--backend-url", "http://api:8080/v1", "--log-level", "info"]
    reply = kube.apply(deployment)

    stored = kube.get("Deployment", new, "shop")
    assert stored is not None
    container = stored["spec"]["template"]["spec"]["containers"][0]
    assert {e["name"]: e["value"] for e in container["env"]} == {
        "BROKERS": f"kafka-0.kafka-headless.{old}.svc.cluster.local:9092",
        "OTEL_SERVICE_NAME": "cart",
    }
    assert container["command"] == ["/wait-for", f"redis.{old}.svc.cluster.local:6379", "--"]
    assert container["args"] == ["--backend-url", f"http://api.{old}.svc.cluster.local:8080/v1", "--log-level", "info"]
    records = json.loads(stored["metadata"]["annotations"][labels.REWRITTEN_ENV])
    assert [record["env"] for record in records] == ["BROKERS", "command[1]", "args[1]"]
    assert f"nsmigrate: args[1] (shop): api -> api.{old}.svc.cluster.local (url)" in reply.warnings
    assert any(w.endswith("(host:port, pod name)") for w in reply.warnings)


def test_an_opted_in_configmap_is_rewritten_byte_for_byte(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    moving(kube, old, new, "api", "redis")
    conf = "upstream api {\r\n    server api:8080;   # the API\r\n}\r\n"
    configmap: JsonObject = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": new},
        "data": {"REDIS_HOST": "redis", "MODE": "redis", "nginx.conf": conf},
    }
    reply = kube.apply(configmap)

    stored = kube.get("ConfigMap", new, "settings")
    assert stored is not None
    assert stored["data"] == {
        "REDIS_HOST": f"redis.{old}.svc.cluster.local",
        "MODE": "redis",
        "nginx.conf": conf.replace("api:8080", f"api.{old}.svc.cluster.local:8080"),
    }
    records = json.loads(stored["metadata"]["annotations"][labels.REWRITTEN_ENV])
    assert [record["env"] for record in records] == ["REDIS_HOST", "nginx.conf:2"]
    assert f"nsmigrate: key REDIS_HOST: redis -> redis.{old}.svc.cluster.local (address variable)" in reply.warnings


def test_a_configmap_in_a_namespace_that_did_not_ask_is_left_alone(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    kube.apply(seed.namespace(old, {labels.SOURCE: "true"}))
    kube.apply(seed.service("redis", old, "redis"))
    kube.apply(seed.new_namespace(new, old=old))
    data = {"REDIS_HOST": "redis"}
    kube.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": new}, "data": data}
    )
    stored = kube.get("ConfigMap", new, "settings")
    assert stored is not None
    assert stored["data"] == data


def test_plan_shows_args_and_configmap_rewrites_and_writes_nothing(
    dev: DevEnvironment, kube: Kube, names: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = names
    moving(kube, old, new, "api", "redis")
    deployment = seed.deployment("shop", "anywhere", {})
    deployment["spec"]["template"]["spec"]["containers"][0]["args"] = ["--backend-url", "http://api:8080/v1"]
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"HOST": "redis"}}
    (tmp_path / "app.yaml").write_text(yaml.safe_dump_all([deployment, configmap]))

    code = cli(["plan", "-f", str(tmp_path), "--to", new, "--kubeconfig", str(dev.kubeconfig)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"rewrite args[1] (shop): http://api:8080/v1 -> http://api.{old}.svc.cluster.local:8080/v1 (url)" in out
    assert (
        f"configmap {new}/settings\n  rewrite key HOST: redis -> redis.{old}.svc.cluster.local (address variable)"
        in out
    )
    assert kube.get("ConfigMap", new, "settings") is None
