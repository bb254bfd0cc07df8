"""The mutating webhook through a real kube-apiserver, which calls it over TLS as a cluster would."""

from __future__ import annotations

import json

import pytest

from tests.e2e.helpers import apply_all, env_of, migrating
from webhook.core import labels
from webhook.dev import seed
from webhook.kube.client import Kube

pytestmark = pytest.mark.e2e


def test_seed_scenario_rewrites_env_and_creates_the_proxy(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    migrating(kube, old, new)
    _, deployment_reply = apply_all(kube, seed.app("a", new))

    stored = kube.get("Deployment", new, "appa")
    assert stored is not None
    assert env_of(stored) == {"SERVICEB_URL": f"http://serviceb.{old}.svc.cluster.local/"}
    assert json.loads(stored["metadata"]["annotations"][labels.REWRITTEN_ENV]) == [
        {
            "container": "appa",
            "env": "SERVICEB_URL",
            "from": "http://serviceb/",
            "to": f"http://serviceb.{old}.svc.cluster.local/",
        }
    ]
    assert f"nsmigrate: env SERVICEB_URL (appa): serviceb -> serviceb.{old}.svc.cluster.local (url)" in (
        deployment_reply.warnings
    )

    proxy = kube.get("Service", old, "servicea")
    assert proxy is not None
    assert proxy["metadata"]["labels"] == {labels.MANAGED_BY: labels.MANAGER, labels.PROXY: "true"}
    assert proxy["metadata"]["annotations"] == {labels.PROXY_FOR: f"{new}/servicea"}
    assert proxy["spec"]["type"] == "ExternalName"
    assert proxy["spec"]["externalName"] == f"servicea.{new}.svc.cluster.local"
    assert [(p["name"], p["port"], p["protocol"], p["targetPort"]) for p in proxy["spec"]["ports"]] == [
        ("http", 80, "TCP", 8080)
    ]


def test_new_service_nobody_calls_by_its_old_name_gets_no_proxy(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    migrating(kube, old, new)
    apply_all(kube, [seed.service("appa-metrics", new, "appa", port=9090), *seed.app("a", new)])
    assert kube.get("Service", old, "servicea") is not None
    assert kube.get("Service", old, "appa-metrics") is None


def test_server_side_dry_run_shows_the_rewrite_and_creates_nothing(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    migrating(kube, old, new)
    kube.apply(seed.app("a", new)[0])
    reply = kube.apply(seed.deployment("appa", new, seed.CALLS["a"]), dry_run=True)

    assert env_of(reply.body) == {"SERVICEB_URL": f"http://serviceb.{old}.svc.cluster.local/"}
    assert any(f"would create proxy {old}/servicea" in warning for warning in reply.warnings)
    assert kube.get("Deployment", new, "appa") is None
    assert kube.get("Service", old, "servicea") is None


def test_update_with_short_names_is_rewritten_again(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    migrating(kube, old, new)
    apply_all(kube, seed.app("a", new))
    changed = seed.deployment("appa", new, {"SERVICEB_URL": "http://serviceb:8080/v2", "CACHE_HOST": "servicec"})
    reply = kube.apply(changed)

    assert env_of(reply.body) == {
        "SERVICEB_URL": f"http://serviceb.{old}.svc.cluster.local:8080/v2",
        "CACHE_HOST": f"servicec.{old}.svc.cluster.local",
    }


def test_reapplying_the_stored_object_changes_nothing(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    migrating(kube, old, new)
    apply_all(kube, seed.app("a", new))
    stored = kube.get("Deployment", new, "appa")
    assert stored is not None

    again = kube.request("PUT", f"/apis/apps/v1/namespaces/{new}/deployments/appa", body=stored).body

    assert again["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
    assert again["metadata"]["generation"] == stored["metadata"]["generation"]
    assert env_of(again) == env_of(stored)


def test_unlabelled_namespace_is_untouched(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    apply_all(kube, [*seed.old_namespace(old), seed.namespace(new), *seed.app("a", new)])
    stored = kube.get("Deployment", new, "appa")
    assert stored is not None
    assert env_of(stored) == {"SERVICEB_URL": "http://serviceb/"}
    assert labels.REWRITTEN_ENV not in (stored["metadata"].get("annotations") or {})


def test_source_without_consent_gets_rewrites_but_no_proxy_and_a_warning(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    migrating(kube, old, new, consent=False)
    _, deployment_reply = apply_all(kube, seed.app("a", new))

    assert env_of(deployment_reply.body) == {"SERVICEB_URL": f"http://serviceb.{old}.svc.cluster.local/"}
    assert kube.get("Service", old, "servicea") is None
    assert f"nsmigrate: no proxies: namespace {old} lacks the consent label {labels.SOURCE}=true" in (
        deployment_reply.warnings
    )


def test_live_service_in_the_old_namespace_is_not_touched(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    migrating(kube, old, new, retire=False)
    before = kube.get("Service", old, "servicea")
    _, deployment_reply = apply_all(kube, seed.app("a", new))

    assert kube.get("Service", old, "servicea") == before
    assert any(f"{old}/servicea is still a live Service" in warning for warning in deployment_reply.warnings)


def test_skip_annotation_leaves_the_workload_alone(kube: Kube, names: tuple[str, str]) -> None:
    old, new = names
    migrating(kube, old, new)
    skipped = seed.deployment("appa", new, seed.CALLS["a"])
    skipped["metadata"]["annotations"] = {labels.SKIP: "true"}
    reply = kube.apply(skipped)
    assert env_of(reply.body) == {"SERVICEB_URL": "http://serviceb/"}
