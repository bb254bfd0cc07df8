"""``nsmigrate demo``: the seed scenario on a fresh local control plane, one step at a time."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from webhook import labels, seed
from webhook.devcluster.environment import DevEnvironment
from webhook.kube import Kube
from webhook.objects import JsonObject

Say = Callable[[str], None]


def run(*, workdir: Path | None = None, say: Say = print) -> None:
    """Start a fresh environment, walk the migration of appa from foobar to foo, stop it all."""
    with tempfile.TemporaryDirectory(prefix="nsmigrate-demo-") as scratch:
        environment = DevEnvironment(workdir or Path(scratch))
        say("Starting etcd, kube-apiserver and the nsmigrate webhook on 127.0.0.1 ...")
        environment.up()
        try:
            say(f"  kube-apiserver at {environment.control_plane.server}, kubeconfig {environment.kubeconfig}")
            walk(Kube.connect(str(environment.kubeconfig)), say)
        finally:
            environment.down()
            say("\nStopped the local control plane.")


def walk(kube: Kube, say: Say) -> None:
    """The migration plan, printed as it happens."""
    step(say, 1, "The shared namespace foobar: appa, appb, appc, each behind a Service of its letter")
    for manifest in seed.old_namespace("foobar"):
        apply(kube, manifest, say)
    say("  appa calls http://serviceb/   appc calls http://servicea/")

    step(say, 2, f"Namespace foo, labelled {labels.MIGRATE_FROM}=foobar (foobar carries {labels.SOURCE}=true)")
    apply(kube, seed.new_namespace("foo", old="foobar"), say)

    step(say, 3, "appa is deployed into foo from the same manifests: nobody edits its URLs")
    for manifest in seed.app("a", "foo"):
        apply(kube, manifest, say)
    show_env(kube, "foo", "appa", say)

    step(say, 4, "The old appa retires: foobar/appa and foobar/servicea are deleted")
    kube.delete("Deployment", "foobar", "appa")
    say("  deployment foobar/appa deleted")
    kube.delete("Service", "foobar", "servicea")
    deleted = time.monotonic()
    say("  service foobar/servicea deleted")
    proxy = wait_for(lambda: kube.get("Service", "foobar", "servicea"))
    took = time.monotonic() - deleted
    say(f"  the reconciler saw the name free and still called by appc: proxy in place {took * 1000:.0f} ms later")
    spec = proxy.get("spec", {})
    say(f"  service foobar/servicea: type {spec.get('type')} -> {spec.get('externalName')}")
    ports = [port["port"] for port in spec.get("ports", [])]
    say(f"    ports {ports}, annotations {proxy['metadata'].get('annotations')}")
    say("  appc keeps calling http://servicea/: in foobar that name now resolves to foo's servicea.")

    step(say, 5, "appa's next deploy in foo, from the same manifest: rewritten again, nothing else to do")
    apply(kube, seed.deployment("appa", "foo", seed.CALLS["a"]), say)
    show_env(kube, "foo", "appa", say)


def wait_for(probe: Callable[[], JsonObject | None], *, timeout: float = 30.0) -> JsonObject:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.05)
    raise TimeoutError(f"gave up after {timeout:.0f} s")


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
