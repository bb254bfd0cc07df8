from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.memory import MemoryCluster
from tests.proxies import appc, cluster, proxy
from tests.reviews import review
from webhook.core import labels
from webhook.core.fields import JsonObject
from webhook.core.objects import ConfigMap, Workload
from webhook.core.review import AdmissionRequest
from webhook.core.settings import Settings
from webhook.core.validation import decide_deletion
from webhook.dev import seed

SETTINGS = Settings()


def deletion(obj: JsonObject, **kwargs: Any) -> AdmissionRequest:
    return review(None, operation="DELETE", old=obj, **kwargs)["request"]  # type: ignore[no-any-return]


def test_proxy_with_a_caller_is_denied_and_the_caller_named() -> None:
    decision = decide_deletion(deletion(proxy()), cluster(appc()), SETTINGS)
    assert decision.verdict == "denied"
    assert decision.message() == (
        "proxy foobar/servicea still has callers: deployment foobar/appc (env SERVICEA_URL). "
        "Point them at servicea.foo.svc.cluster.local and redeploy, "
        'or annotate the proxy nsmigrate.io/allow-delete="true" to force the deletion'
    )


def test_proxy_without_callers_is_allowed_quietly() -> None:
    decision = decide_deletion(deletion(proxy()), cluster(appc(url="http://serviceb/")), SETTINGS)
    assert decision.verdict == "allowed"


def test_caller_in_another_namespace_by_old_full_name_holds_the_proxy() -> None:
    decision = decide_deletion(deletion(proxy()), cluster(appc("bar", "servicea.foobar:80")), SETTINGS)
    assert [c.describe() for c in decision.callers] == ["deployment bar/appc (env SERVICEA_URL)"]


def test_configmap_caller_names_its_consumer() -> None:
    settings = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "foobar"},
        "data": {"CHECKOUT_ADDR": "servicea:80"},
    }
    ops = seed.deployment("ops", "foobar", {})
    ops["spec"]["template"]["spec"]["containers"][0]["envFrom"] = [{"configMapRef": {"name": "settings"}}]
    decision = decide_deletion(deletion(proxy()), cluster(settings, ops), SETTINGS)
    assert "configmap foobar/settings (key CHECKOUT_ADDR) used by deployment foobar/ops" in decision.message()


def test_at_most_ten_callers_are_named_then_a_count() -> None:
    callers = [appc(name=f"app{n:02d}") for n in range(13)]
    message = decide_deletion(deletion(proxy()), cluster(*callers), SETTINGS).message()
    assert "deployment foobar/app09 (env SERVICEA_URL); and 3 more." in message
    assert "app10" not in message


def test_break_glass_annotation_forces_the_deletion() -> None:
    forced = proxy(**{labels.ALLOW_DELETE: "true"})
    decision = decide_deletion(deletion(forced), cluster(appc()), SETTINGS)
    assert (decision.verdict, decision.reason) == ("forced", f"annotated {labels.ALLOW_DELETE}=true")


def test_terminating_namespace_never_wedges() -> None:
    decision = decide_deletion(deletion(proxy()), cluster(appc(), terminating=True), SETTINGS)
    assert decision.verdict == "forced"
    assert decision.reason == "namespace foobar is terminating"


def test_ordinary_service_is_always_allowed() -> None:
    decision = decide_deletion(deletion(seed.service("servicea", "foobar", "appa")), cluster(appc()), SETTINGS)
    assert decision.verdict == "allowed"


@pytest.mark.parametrize("dry_run", [True, False])
def test_dry_run_gets_the_same_decision(dry_run: bool) -> None:
    decision = decide_deletion(deletion(proxy(), dry_run=dry_run), cluster(appc()), SETTINGS)
    assert decision.verdict == "denied"


@dataclass
class Lagging(MemoryCluster):
    """A cache that has not seen the callers the API server (``fresh``) already holds."""

    fresh: MemoryCluster = field(default_factory=MemoryCluster)

    def live(self) -> MemoryCluster:
        return self.fresh

    def fresh_contents(self, namespace: str) -> tuple[list[Workload], list[ConfigMap]]:
        return self.fresh.fresh_contents(namespace)


def test_a_caller_the_cache_has_not_seen_yet_still_refuses_the_deletion() -> None:
    lagging = Lagging.of(seed.namespace("foobar", {labels.SOURCE: "true"}), proxy())
    lagging.fresh = cluster(appc())
    decision = decide_deletion(deletion(proxy()), lagging, SETTINGS)
    assert decision.verdict == "denied"
    assert [c.describe() for c in decision.callers] == ["deployment foobar/appc (env SERVICEA_URL)"]


def test_a_proxy_nobody_calls_in_its_namespace_is_deleted_after_the_live_read() -> None:
    lagging = Lagging.of(seed.namespace("foobar", {labels.SOURCE: "true"}), proxy())
    lagging.fresh = cluster()
    assert decide_deletion(deletion(proxy()), lagging, SETTINGS).verdict == "allowed"
