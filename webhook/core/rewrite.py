"""Rewriting references: which short Service names (and pod names under them) a moved workload, or an
opted-in ConfigMap, must call by their full name."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from webhook.core.downward import RULE as DOWNWARD
from webhook.core.downward import find_downward, label_variables, literals, namespace_variables
from webhook.core.fields import JsonObject
from webhook.core.hosts import POD_NAME_RULE, HostRef, find_data_hosts, find_hosts, line_of, pod_name, replace_hosts
from webhook.core.objects import Service
from webhook.core.podspec import Literal, containers, literal_references


def full_name(service: str, namespace: str, cluster_domain: str) -> str:
    return f"{service}.{namespace}.svc.{cluster_domain}"


def _no_namespace(_: str) -> bool:
    return False


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
    is_namespace: Callable[[str], bool] = _no_namespace
    """Whether a namespace of that name exists: ``serviceb.foobar`` is a Service, not a pod name."""

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

    def qualify(self, ref: HostRef) -> tuple[str, str] | None:
        """(the name ``ref`` must become, the rule that says so), or None to leave it alone."""
        if ref.is_short:
            target = self.target(ref.name)
            return (target, ref.rule) if target else None
        pod = pod_name(ref.host)
        if pod is None or self.is_namespace(pod[1]):
            return None
        if ref.rule == POD_NAME_RULE and not self._headless(pod[1]):
            return None  # found under a variable that says nothing of addresses: only a headless Service's pod
        target = self.target(pod[1])
        if target is None:
            return None
        return f"{pod[0]}.{target}", ref.rule if ref.rule == POD_NAME_RULE else f"{ref.rule}, pod name"

    def downward(self, service: str) -> str | None:
        """The namespace that ``<service>.$(POD_NAMESPACE)`` must name instead of the new one, or None:
        the old namespace where only it has that Service (its target's, for a proxy of the same name)."""
        if self.is_local(service):
            return None
        found = self.old_service(service)
        if found is None:
            return None
        target = found.proxy_target
        return target[0] if target and target[1] == service else self.old_namespace

    def _headless(self, service: str) -> bool:
        found = self.old_service(service)
        return found is not None and found.cluster_ip == "None" and not self.is_local(service)


@dataclass(frozen=True)
class Rewrite:
    """One value rewritten: the whole value (or line) before and after, the hosts that changed and why."""

    container: str
    env: str
    """The env name, ``args[i]`` / ``command[i]``, a ConfigMap key, or ``key:line`` for a file-shaped value."""
    before: str
    after: str
    hosts: tuple[tuple[str, str], ...]
    rules: tuple[str, ...] = ()
    """The rule that found each host, in the order of ``hosts``."""

    @property
    def where(self) -> str:
        """For people: ``env SERVICEB_URL (appa)``, ``args[2] (appa)``, or ``key nginx.conf:12`` of a ConfigMap."""
        if not self.container:
            return f"key {self.env}"
        return f"{self.env} ({self.container})" if "[" in self.env else f"env {self.env} ({self.container})"

    def record(self) -> dict[str, str]:
        """The entry of the ``nsmigrate.io/rewritten-env`` annotation."""
        return {"container": self.container, "env": self.env, "from": self.before, "to": self.after}


def qualified(refs: Iterable[HostRef], resolver: Resolver) -> dict[HostRef, tuple[str, str]]:
    """The references that must change: ref -> (new name, rule)."""
    return {ref: decided for ref in refs if (decided := resolver.qualify(ref)) is not None}


def rewrite_value(
    value: str, *, variable: str, resolver: Resolver, used_as_host: bool = False
) -> tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]:
    """``value`` with its short Service names qualified, the (host, full name) pairs changed, and why."""
    refs = find_hosts(value, variable=variable, used_as_host=used_as_host)
    changes = qualified(refs, resolver) if refs else {}
    if not changes:
        return value, (), ()
    after = replace_hosts(value, {ref: name for ref, (name, _) in changes.items()})
    return after, _pairs(changes), _rules(changes)


def rewrite_references(
    pod_spec: JsonObject,
    resolver: Resolver,
    *,
    keep: Collection[str] = (),
    literals: Iterable[Literal] | None = None,
) -> list[Rewrite]:
    """Qualify short names in the literal env values, args and command of ``pod_spec``, in place;
    return what changed. Variables (or ``args`` / ``command``) named in ``keep`` are left alone.
    ``literals``: ``literal_references(pod_spec)`` if the caller has them already (read again when the
    downward pass changed a value).

    Callers hand in a copy (mutate a copy, then diff): the original stays the reference.
    """
    rewrites: list[Rewrite] = rewrite_downward(pod_spec, resolver, keep=keep)
    for literal in literal_references(pod_spec) if rewrites or literals is None else literals:
        if keep and (literal.place in keep or literal.place.partition("[")[0] in keep):
            continue
        changes = qualified(literal.refs, resolver)
        if changes:
            after = replace_hosts(literal.value, {ref: name for ref, (name, _) in changes.items()})
            literal.holder[literal.key] = after
            rewrites.append(
                Rewrite(literal.container, literal.place, literal.value, after, _pairs(changes), _rules(changes))
            )
    return _merged(rewrites)


def rewrite_downward(pod_spec: JsonObject, resolver: Resolver, *, keep: Collection[str] = ()) -> list[Rewrite]:
    """Replace ``$(VAR)`` (set from the pod's namespace) where it names a Service only the old namespace
    has, in place; return what changed."""
    rewrites = []
    for container in containers(pod_spec):
        variables = namespace_variables(container)
        if not variables:
            continue
        labels = label_variables(container)
        for holder, key, place in literals(container):
            value = holder[key]
            if keep and (place in keep or place.partition("[")[0] in keep):
                continue
            refs = [
                (ref, namespace)
                for ref in find_downward(value, variables, labels=labels)
                if (namespace := resolver.downward(ref.service))
            ]
            if not refs:
                continue
            after = value
            for ref, namespace in sorted(refs, key=lambda item: item[0].start, reverse=True):
                after = after[: ref.start] + namespace + after[ref.end :]
            hosts = tuple((f"{ref.host}.$({ref.variable})", f"{ref.host}.{namespace}") for ref, namespace in refs)
            holder[key] = after
            rewrites.append(
                Rewrite(str(container.get("name", "")), place, value, after, hosts, (DOWNWARD,) * len(refs))
            )
    return rewrites


def _merged(rewrites: list[Rewrite]) -> list[Rewrite]:
    """One record per value: a value rewritten by both passes shows its first before and last after."""
    merged: dict[tuple[str, str], Rewrite] = {}
    for rewrite in rewrites:
        key = (rewrite.container, rewrite.env)
        first = merged.get(key)
        merged[key] = rewrite if first is None else _joined(first, rewrite)
    return list(merged.values())


def _joined(first: Rewrite, then: Rewrite) -> Rewrite:
    hosts, rules = first.hosts + then.hosts, first.rules + then.rules
    return Rewrite(first.container, first.env, first.before, then.after, hosts, rules)


def rewrite_data(data: dict[str, str], resolver: Resolver, *, keep: Collection[str] = ()) -> list[Rewrite]:
    """Qualify short names in ConfigMap data, in place: a one-line value as an env value named by its
    key; a file-shaped value line by line, recorded per line (``key:12``) so records stay small."""
    rewrites: list[Rewrite] = []
    for key, value in sorted(data.items()):
        changes = qualified(find_data_hosts(value, key=key), resolver) if key not in keep else {}
        if not changes:
            continue
        after = replace_hosts(value, {ref: name for ref, (name, _) in changes.items()})
        data[key] = after
        if "\n" not in value.strip():
            rewrites.append(Rewrite("", key, value, after, _pairs(changes), _rules(changes)))
            continue
        by_line: dict[int, dict[HostRef, tuple[str, str]]] = {}
        for ref, decided in changes.items():
            by_line.setdefault(line_of(value, ref.start), {})[ref] = decided
        lines, new_lines = value.split("\n"), after.split("\n")
        for number, on_line in sorted(by_line.items()):
            rewrites.append(
                Rewrite(
                    "", f"{key}:{number}", lines[number - 1], new_lines[number - 1], _pairs(on_line), _rules(on_line)
                )
            )
    return rewrites


def _pairs(changes: dict[HostRef, tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((ref.host, name) for ref, (name, _) in sorted(changes.items(), key=lambda item: item[0].start))


def _rules(changes: dict[HostRef, tuple[str, str]]) -> tuple[str, ...]:
    return tuple(rule for _, (_, rule) in sorted(changes.items(), key=lambda item: item[0].start))
