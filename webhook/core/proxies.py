"""Proxies: the ExternalName Service left in the old namespace under the moved Service's name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from webhook.core import labels
from webhook.core.callers import Caller, callers_of
from webhook.core.cluster import ClusterView
from webhook.core.fields import JsonObject
from webhook.core.objects import Service, ServicePort
from webhook.core.owners import owner_of
from webhook.core.rewrite import full_name

ProxyStep = Literal["create", "present", "conflict", "handover", "unneeded"]


@dataclass(frozen=True)
class ProxyPlan:
    """What the old namespace needs for one moved Service, and why."""

    step: ProxyStep
    namespace: str
    name: str
    target: str
    manifest: JsonObject | None = None
    reason: str = ""


def proxy_ports(ports: Sequence[ServicePort]) -> list[JsonObject]:
    """A proxy's ``spec.ports`` for these target ports (node ports never carry over)."""
    entries = []
    for port in ports:
        entry: JsonObject = {"port": port.port, "protocol": port.protocol}
        if port.name:
            entry["name"] = port.name
        if port.target_port is not None:
            entry["targetPort"] = port.target_port
        if port.app_protocol:
            entry["appProtocol"] = port.app_protocol
        entries.append(entry)
    return entries


def build_proxy(target: Service, *, old_namespace: str, cluster_domain: str) -> JsonObject:
    """The proxy for ``target`` in ``old_namespace``: same name, same ports, pointing at it."""
    ports = proxy_ports(target.ports)
    spec: JsonObject = {
        "type": "ExternalName",
        "externalName": full_name(target.name, target.namespace, cluster_domain),
    }
    if ports:
        spec["ports"] = ports
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": target.name,
            "namespace": old_namespace,
            "labels": {labels.MANAGED_BY: labels.MANAGER, labels.PROXY: "true"},
            "annotations": {labels.PROXY_FOR: f"{target.namespace}/{target.name}"},
        },
        "spec": spec,
    }


def plan_proxy(
    *,
    target: Service,
    old_namespace: str,
    existing: Service | None,
    callers: Sequence[Caller],
    cluster_domain: str,
) -> ProxyPlan:
    """Decide the proxy for ``target``; ``callers`` are those of the old name (read when the name is free)."""
    wanted = f"{target.namespace}/{target.name}"
    plan: dict[str, Any] = {"namespace": old_namespace, "name": target.name, "target": wanted}
    if existing is None:
        if not callers:
            return ProxyPlan("unneeded", **plan, reason="nothing calls the old name")
        manifest = build_proxy(target, old_namespace=old_namespace, cluster_domain=cluster_domain)
        return ProxyPlan("create", **plan, manifest=manifest, reason=f"called by {callers[0].describe()}")
    if existing.is_proxy:
        owner = existing.annotations.get(labels.PROXY_FOR)
        if owner == wanted:
            return ProxyPlan("present", **plan)
        return ProxyPlan("conflict", **plan, reason=f"it is already the proxy for {owner}")
    owner = owner_of(existing)
    if owner is not None:
        return ProxyPlan("handover", **plan, reason=f"it is managed by {owner}")
    return ProxyPlan("handover", **plan, reason="a live Service of that name still serves the old namespace")


def describe(plan: ProxyPlan, *, dry_run: bool) -> str | None:
    """The admission warning for a plan, or None when there is nothing to say."""
    where = f"{plan.namespace}/{plan.name}"
    if plan.step == "create":
        verb = "would create" if dry_run else "creating"
        return f"{verb} proxy {where} -> {plan.target} ({plan.reason})"
    if plan.step == "conflict":
        return f"proxy {where} left alone: {plan.reason}, not for {plan.target}"
    if plan.step == "handover" and plan.reason.startswith("it is managed by"):
        return f"{where} {plan.reason.removeprefix('it ')}: not handed over automatically (see nsmigrate status)"
    if plan.step == "handover":
        return f"{where} is still a live Service: it is handed over to {plan.target} once that is available"
    return None


def plan_proxies(
    moved: Sequence[Service], *, old_namespace: str, view: ClusterView, cluster_domain: str
) -> list[ProxyPlan]:
    """The plan for each moved Service; callers are only looked up where the old name is free."""
    plans = []
    for service in moved:
        existing = view.service(old_namespace, service.name)
        callers = [] if existing else callers_of(service.name, old_namespace, view=view, cluster_domain=cluster_domain)
        plans.append(
            plan_proxy(
                target=service,
                old_namespace=old_namespace,
                existing=existing,
                callers=callers,
                cluster_domain=cluster_domain,
            )
        )
    return plans
