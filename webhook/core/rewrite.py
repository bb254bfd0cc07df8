"""Env rewriting: which short Service names a moved workload must call by their full name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from webhook.core.hosts import HostRef, find_hosts, replace_hosts
from webhook.core.objects import JsonObject, Service, literal_env


def full_name(service: str, namespace: str, cluster_domain: str) -> str:
    return f"{service}.{namespace}.svc.{cluster_domain}"


@dataclass(frozen=True)
class Resolver:
    """What a short name means to a workload that moved from ``old_namespace`` to a new one.

    Both lookups are by name (a cache answers each in constant time, whatever the namespace's size)."""

    old_namespace: str
    old_service: Callable[[str], Service | None]
    """The Service of that name in the old namespace."""
    is_local: Callable[[str], bool]
    """Whether a Service of that name exists in the new namespace."""
    cluster_domain: str

    def target(self, name: str) -> str | None:
        """The full name a short ``name`` must become, or None to leave it alone.

        A Service in the new namespace wins, as DNS would; an old-namespace proxy is skipped in
        favour of its own target, so that no new caller keeps the proxy alive.
        """
        if self.is_local(name):
            return None
        service = self.old_service(name)
        if service is None:
            return None
        namespace, target = service.proxy_target or (self.old_namespace, name)
        return full_name(target, namespace, self.cluster_domain)


@dataclass(frozen=True)
class Rewrite:
    """One env value rewritten: the whole value before and after, and the hosts that changed."""

    container: str
    env: str
    before: str
    after: str
    hosts: tuple[tuple[str, str], ...]

    def record(self) -> dict[str, str]:
        """The entry of the ``nsmigrate.io/rewritten-env`` annotation."""
        return {"container": self.container, "env": self.env, "from": self.before, "to": self.after}


def rewrite_value(value: str, *, variable: str, resolver: Resolver) -> tuple[str, tuple[tuple[str, str], ...]]:
    """``value`` with its short Service names qualified, and the (host, full name) pairs changed."""
    replacements: dict[HostRef, str] = {}
    for ref in find_hosts(value, variable=variable):
        target = resolver.target(ref.name) if ref.is_short else None
        if target is not None:
            replacements[ref] = target
    if not replacements:
        return value, ()
    changed = tuple((ref.host, target) for ref, target in replacements.items())
    return replace_hosts(value, replacements), changed


def rewrite_env(pod_spec: JsonObject, resolver: Resolver) -> list[Rewrite]:
    """Qualify short names in the literal env values of ``pod_spec``, in place; return what changed.

    Callers hand in a copy (mutate a copy, then diff): the original stays the reference.
    """
    rewrites: list[Rewrite] = []
    for container, entry in literal_env(pod_spec):
        before = entry["value"]
        after, hosts = rewrite_value(before, variable=str(entry.get("name", "")), resolver=resolver)
        if hosts:
            entry["value"] = after
            rewrites.append(Rewrite(container, str(entry.get("name", "")), before, after, hosts))
    return rewrites
