"""``nsmigrate demo``: the seed migration on a fresh local control plane, one step at a time.

Deployments really roll out (controller manager, scheduler, kwok) and names really resolve (CoreDNS):
after each step the demo shows what every caller's URL resolves to.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from webhook.core import graph, labels, readiness, render, report
from webhook.core.fields import JsonObject
from webhook.core.hosts import find_hosts
from webhook.core.netgate import ALLOW_CALLERS_POLICY
from webhook.core.settings import from_env
from webhook.core.waiting import poll_until
from webhook.dev import seed
from webhook.dev.controlplane import COMPONENTS
from webhook.dev.dns import resolve
from webhook.dev.environment import DevEnvironment
from webhook.kube import watch
from webhook.kube.cache import Cache
from webhook.kube.client import ApiError, Kube
from webhook.kube.live import KubeCluster

Say = Callable[[str], None]


def run(*, workdir: Path | None = None, say: Say = print) -> None:
    """Start a fresh environment, walk the migration of appa from foobar to foo, stop it all."""
    with tempfile.TemporaryDirectory(prefix="nsmigrate-demo-") as scratch:
        environment = DevEnvironment(workdir or Path(scratch))
        say(
            "Starting etcd, kube-apiserver, controller manager, scheduler, kwok, CoreDNS and nsmigrate on 127.0.0.1 ..."
        )
        environment.up(components=COMPONENTS)
        try:
            say(f"  kube-apiserver at {environment.control_plane.server}, kubeconfig {environment.kubeconfig}")
            walk(Kube.connect(str(environment.kubeconfig)), environment.control_plane.dns_port, say)
        finally:
            environment.down()
            say("\nStopped the local control plane.")


def walk(kube: Kube, dns_port: int, say: Say) -> None:
    """The migration plan, printed as it happens."""
    step(say, 1, "The shared namespace foobar: appa, appb, appc, each behind a Service of its letter")
    for manifest in seed.old_namespace("foobar"):
        apply(kube, manifest, say)
    wait_for(lambda: all(available(kube, "foobar", f"app{letter}") for letter in "abc"))
    say("  all three Available")
    show_dns(kube, dns_port, say)

    step(say, 2, f"Namespace foo, labelled {labels.MIGRATE_FROM}=foobar (foobar carries {labels.SOURCE}=true)")
    apply(kube, seed.new_namespace("foo", old="foobar"), say)
    say("  foo gets its team's default: a NetworkPolicy that denies all ingress")
    apply(kube, DEFAULT_DENY, say)

    hand_over(kube, dns_port, say)
    retire(kube, dns_port, say)


def hand_over(kube: Kube, dns_port: int, say: Say) -> None:
    """Steps 3 to 5: appa deployed in foo, the handover held by foo's policy, then released."""
    step(say, 3, "appa is deployed into foo from the same manifests: nobody edits its URLs")
    for manifest in seed.app("a", "foo"):
        apply(kube, manifest, say)
    show_env(kube, "foo", "appa", say)

    step(say, 4, "foo/appa is Available, but foo's policy would drop appc's calls: the handover waits")
    before = kube.get("Service", "foobar", "servicea") or {}
    wait_for(lambda: available(kube, "foo", "appa"))
    wait_for(lambda: held(kube, "foobar", "servicea"))
    selector = (kube.get("Service", "foobar", "servicea") or {})["spec"].get("selector")
    say(f"  service foobar/servicea keeps its selector {selector}: the old pods still serve appc")
    show_status(kube, say)

    step(
        say, 5, f"Label foo {labels.ALLOW_CALLERS}=true: nsmigrate admits exactly the known callers, the handover goes"
    )
    apply(kube, seed.namespace("foo", {labels.MIGRATE_FROM: "foobar", labels.ALLOW_CALLERS: "true"}), say)
    seen = time.monotonic()
    handed = wait_for(lambda: handed_over(kube, "foobar", "servicea"))
    allowed = kube.get("NetworkPolicy", "foo", ALLOW_CALLERS_POLICY) or {}
    sources = allowed.get("spec", {}).get("ingress", [{}])[0].get("from", [])
    say(f"  networkpolicy foo/{ALLOW_CALLERS_POLICY} (managed by nsmigrate) admits {json.dumps(sources)}")
    say(f"  foobar/servicea handed over {(time.monotonic() - seen) * 1000:.0f} ms after the label")
    same = "unchanged" if handed["spec"].get("clusterIP") == before.get("spec", {}).get("clusterIP") else "CHANGED"
    say(f"  service foobar/servicea: {handed['spec']['type']} {handed['spec'].get('clusterIP')} ({same}), no selector")
    for piece in kube.list_labelled("EndpointSlice", "foobar", f"{labels.SERVICE_NAME}=servicea"):
        addresses = [a for endpoint in piece.get("endpoints") or [] for a in endpoint["addresses"]]
        manager = piece["metadata"]["labels"].get(labels.SLICE_MANAGED_BY)
        say(f"  endpointslice foobar/{piece['metadata']['name']} ({manager}): {', '.join(addresses)}")
    say(f"  original spec kept in {labels.ORIGINAL_SPEC} (for `nsmigrate rollback foobar/servicea`)")
    show_dns(kube, dns_port, say)
    show_status(kube, say)
    show_graph(kube, say)


def retire(kube: Kube, dns_port: int, say: Say) -> None:
    """Steps 6 to 8: the old appa goes, the proxy is kept while called, then goes with its policy."""
    step(say, 6, "The old appa retires: deployment foobar/appa deleted; nothing resolves differently")
    kube.delete("Deployment", "foobar", "appa")
    show_dns(kube, dns_port, say)

    step(say, 7, "Deleting the proxy while appc still calls http://servicea/ is refused")
    show_status(kube, say)
    try:
        kube.delete("Service", "foobar", "servicea")
    except ApiError as error:
        say(f"  Error from server ({error.status}): {error.message}")

    step(say, 8, "appc is redeployed with the new name; now the proxy can go")
    apply(kube, seed.deployment("appc", "foobar", {"SERVICEA_URL": "http://servicea.foo.svc.cluster.local/"}), say)
    wait_for(lambda: deleted(kube, "foobar", "servicea"))
    say("  service foobar/servicea deleted")
    wait_for(lambda: kube.get("NetworkPolicy", "foo", ALLOW_CALLERS_POLICY) is None)
    say(f"  networkpolicy foo/{ALLOW_CALLERS_POLICY} removed with the last proxy of foo")
    show_dns(kube, dns_port, say)
    show_graph(kube, say)
    say("\nappa now lives in foo; every name resolved at every step.")


def step(say: Say, number: int, title: str) -> None:
    say(f"\n== {number}. {title}")


def apply(kube: Kube, manifest: JsonObject, say: Say) -> None:
    """Server-side apply, printed the way kubectl prints it, warnings included."""
    reply = kube.apply(manifest)
    metadata = manifest["metadata"]
    where = f"{metadata['namespace']}/{metadata['name']}" if "namespace" in metadata else metadata["name"]
    verb = "created" if reply.status == 201 else "configured"
    say(f"  {manifest['kind'].lower()} {where} {verb}")
    for warning in reply.warnings:
        say(f"    Warning: {warning}")


def show_env(kube: Kube, namespace: str, name: str, say: Say) -> None:
    stored = kube.get("Deployment", namespace, name) or {}
    for container in stored["spec"]["template"]["spec"]["containers"]:
        for entry in container.get("env", []):
            say(f"  stored env of {namespace}/{name}: {entry['name']}={entry.get('value')}")
    record = (stored["metadata"].get("annotations") or {}).get(labels.REWRITTEN_ENV)
    if record:
        say(f"  annotation {labels.REWRITTEN_ENV}: {json.dumps(json.loads(record))}")


def show_dns(kube: Kube, dns_port: int, say: Say) -> None:
    """What every Deployment's URLs resolve to, asked of CoreDNS from the Deployment's namespace."""
    for namespace in ("foobar", "foo"):
        for deployment in kube.list_all("Deployment", namespace):
            for container in deployment["spec"]["template"]["spec"]["containers"]:
                for entry in container.get("env", []):
                    for ref in find_hosts(entry.get("value", ""), variable=entry["name"]):
                        address = resolve(ref.host, namespace=namespace, port=dns_port) or "NOT RESOLVED"
                        say(f"  dns: {namespace}/{deployment['metadata']['name']} -> {ref.host} = {address}")


def show_status(kube: Kube, say: Say) -> None:
    """``nsmigrate status``, as the demo goes."""
    view, settings = snapshot(kube), from_env()
    text = render.status_text(
        report.proxy_statuses(view, settings),
        report.awaiting_handover(view, settings),
        report.mirror_statuses(view, settings),
        findings=readiness.all_findings(view, settings),
    )
    say("  $ nsmigrate status")
    for line in text.splitlines():
        say(f"  {line}")


def show_graph(kube: Kube, say: Say) -> None:
    """``nsmigrate graph`` (Mermaid), as the demo goes."""
    say("  $ nsmigrate graph -n foobar -n foo")
    for line in render.mermaid(graph.call_graph(snapshot(kube), from_env(), namespaces=["foobar", "foo"])).splitlines():
        say(f"  {line}")


def held(kube: Kube, namespace: str, name: str) -> bool:
    """The reconciler has looked at the handover and held it (a Warning Event says why)."""
    return any(
        event.get("reason") == "NetworkPolicyBlocksCallers" and (event.get("involvedObject") or {}).get("name") == name
        for event in kube.list_all("Event", namespace)
    )


DEFAULT_DENY: JsonObject = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "default-deny", "namespace": "foo"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
}


def snapshot(kube: Kube) -> Cache:
    return watch.snapshot(Cache(KubeCluster(kube)), kube)


def available(kube: Kube, namespace: str, name: str) -> bool:
    conditions = ((kube.get("Deployment", namespace, name) or {}).get("status") or {}).get("conditions") or []
    return any(c["type"] == "Available" and c["status"] == "True" for c in conditions)


def handed_over(kube: Kube, namespace: str, name: str) -> JsonObject | None:
    """The Service once handed over and served by the mirrored slices alone."""
    service = kube.get("Service", namespace, name) or {}
    if not service or service["spec"].get("selector"):
        return None
    slices = kube.list_labelled("EndpointSlice", namespace, f"{labels.SERVICE_NAME}={name}")
    managers = {piece["metadata"]["labels"].get(labels.SLICE_MANAGED_BY) for piece in slices}
    return service if managers == {labels.SLICE_MANAGER} else None


def deleted(kube: Kube, namespace: str, name: str) -> bool:
    """Delete, retried while the webhook's cache has not yet seen the caller's redeploy."""
    try:
        kube.delete("Service", namespace, name)
    except ApiError as error:
        if error.status != 403:
            raise
        return False
    return True


def wait_for(probe: Callable[[], JsonObject | bool | None], *, timeout: float = 60.0) -> JsonObject:
    found = poll_until(probe, timeout=timeout, interval=0.02)
    return found if isinstance(found, dict) else {}
