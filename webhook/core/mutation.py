"""The mutating webhook: decide the rewrites and proxies for a workload, then make the proxies.

``plan_mutation`` only reads (through the cluster view) and decides; ``admit_workload`` adds the one
side effect, creating proxies, bounded in time and never failing the admission.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from webhook.core import labels, proxies, readiness
from webhook.core.cluster import Cluster, ClusterView
from webhook.core.fields import JsonObject, dig, strings
from webhook.core.findings import Finding
from webhook.core.hosts import HostRef, dns_name, is_short, pod_name
from webhook.core.migration import migration_of
from webhook.core.objects import workload_from_object
from webhook.core.patch import diff
from webhook.core.podspec import env_editable_copy, literal_references, pod_template
from webhook.core.proxies import ProxyPlan
from webhook.core.review import AdmissionRequest, Operation, Response, patched
from webhook.core.rewrite import Resolver, Rewrite, rewrite_references
from webhook.core.settings import Settings


@dataclass(frozen=True)
class MutationPlan:
    """Everything nsmigrate decided for one workload admission."""

    patch: list[JsonObject] = field(default_factory=list)
    rewrites: list[Rewrite] = field(default_factory=list)
    proxies: list[ProxyPlan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    """What else the move breaks for this workload (readiness), each also among the warnings."""


@dataclass(frozen=True)
class MutationResult:
    response: Response
    plan: MutationPlan
    created: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def plan_mutation(
    obj: JsonObject,
    view: ClusterView,
    settings: Settings,
    *,
    namespace: str,
    operation: Operation,
    dry_run: bool = False,
) -> MutationPlan:
    """Decide the patch, warnings and proxies for a workload CREATE or UPDATE. Writes nothing."""
    template = pod_template(obj)
    metadata = dig(obj, "metadata")
    if template is None or dig(metadata, "annotations").get(labels.SKIP) == "true":
        return MutationPlan()
    namespace = namespace or str(metadata.get("namespace", ""))
    migration, problem = migration_of(namespace, view=view, settings=settings)
    if migration is None:
        # The API server only sends reviews from labelled namespaces: a cache that says otherwise lags.
        migration, problem = migration_of(namespace, view=view.live(), settings=settings)
    if migration is None:
        return MutationPlan(warnings=[problem] if problem else [])
    old = migration.old

    mutated = env_editable_copy(obj)
    pod_spec = dig(pod_template(mutated), "spec")
    literals = list(literal_references(pod_spec))  # scanned once: for the record and for the rewrite
    workload = workload_from_object(obj, literals=literals)
    hosts = [host for _, found in workload.env_hosts for host in found] if workload else []
    resolver = resolver_for(view, settings, namespace=namespace, old=old, operation=operation, hosts=hosts)
    rewrites = rewrite_references(pod_spec, resolver, keep=kept(obj), literals=literals)
    if rewrites:
        record_rewrites(mutated, rewrites)
    warnings = [rewrite_warning(rewrite) for rewrite in rewrites]
    consumed = workload.configmaps if workload else {}
    warnings += _configmap_warnings(consumed, namespace=namespace, view=view, resolver=resolver)

    plans: list[ProxyPlan] = []
    pod_labels = strings(dig(template, "metadata").get("labels"))
    moved = [service for service in view.services(namespace) if service.selects(pod_labels) and not service.is_proxy]
    if moved and not migration.consent:
        warnings.append(f"no proxies: namespace {old} lacks the consent label {labels.SOURCE}=true")
    elif moved:
        plans = proxies.plan_proxies(moved, old_namespace=old, view=view, cluster_domain=settings.cluster_domain)
        warnings += [text for plan in plans if (text := proxies.describe(plan, dry_run=dry_run))]

    findings: list[Finding] = []
    if workload is not None:
        findings, optional = readiness.admission_findings(view, settings, workload, plans)
        warnings += [finding.warning() for finding in findings] + optional
    patch = diff(obj, mutated)
    return MutationPlan(patch=patch, rewrites=rewrites, proxies=plans, warnings=warnings, findings=findings)


def resolver_for(
    view: ClusterView, settings: Settings, *, namespace: str, old: str, operation: Operation, hosts: Iterable[str]
) -> Resolver:
    """What names mean to an object admitted into ``namespace`` (migrating from ``old``); on CREATE, the
    Services its ``hosts`` may need are confirmed with the API server first (``_confirmed``)."""
    resolver = Resolver(
        old_namespace=old,
        old_service=lambda name: view.service(old, name),
        is_local=lambda name: view.service(namespace, name) is not None,
        cluster_domain=settings.cluster_domain,
        is_namespace=lambda name: view.namespace(name) is not None,
    )
    if operation != "CREATE":
        return resolver
    names = {dns_name(host) for host in hosts if is_short(host)}
    names |= {pod[1] for host in hosts if (pod := pod_name(host))}
    return _confirmed(resolver, names, view=view, namespace=namespace)


def _confirmed(resolver: Resolver, names: set[str], *, view: ClusterView, namespace: str) -> Resolver:
    """The resolver, with what the API server says now about each short name the cache does not
    know as a local Service.

    `kubectl apply -f dir/` creates Services and, milliseconds later, the workloads calling them:
    a first deploy must not be decided on a cache that has not seen them yet. The reads are GETs,
    made together (consistent reads that, unlike a LIST, do not wait on the API server's cache):
    for a name the cache knows in the old namespace, whether it now exists in the new one; for a
    name it knows nowhere, whether it now exists in the old one (and then in the new one). An old
    Service deleted in the same moment needs no read: its name resolves nowhere, short or full."""
    uncertain = sorted(name for name in names if not resolver.is_local(name))
    if not uncertain:
        return resolver
    live = view.live()
    old = resolver.old_namespace
    known = [name for name in uncertain if resolver.old_service(name) is not None]
    unknown = [name for name in uncertain if name not in known]
    found = live.services_named([(namespace, name) for name in known] + [(old, name) for name in unknown])
    appeared = [name for name in unknown if found[(old, name)] is not None]
    found |= live.services_named([(namespace, name) for name in appeared]) if appeared else {}
    local = {name for name in known + appeared if found[(namespace, name)] is not None}
    new_in_old = {name: found[(old, name)] for name in unknown}
    return replace(
        resolver,
        is_local=lambda name: name in local or resolver.is_local(name),
        old_service=lambda name: new_in_old[name] if name in new_in_old else resolver.old_service(name),
    )


def kept(obj: JsonObject) -> frozenset[str]:
    """The variables the object's ``nsmigrate.io/keep`` annotation leaves alone."""
    listed = str(dig(obj, "metadata", "annotations").get(labels.KEEP, ""))
    return frozenset(name.strip() for name in listed.split(",") if name.strip())


def admit_workload(request: AdmissionRequest, cluster: Cluster, settings: Settings) -> MutationResult:
    """Plan, then create the planned proxies (not on dry-run); a failed creation is a warning."""
    plan = plan_mutation(
        request.get("object") or {},
        cluster,
        settings,
        namespace=request.get("namespace", ""),
        operation=request["operation"],
        dry_run=bool(request.get("dryRun")),
    )
    created: list[str] = []
    failed: list[str] = []
    warnings = list(plan.warnings)
    for proxy in plan.proxies:
        if proxy.step != "create" or proxy.manifest is None or request.get("dryRun"):
            continue
        where = f"{proxy.namespace}/{proxy.name}"
        try:
            cluster.create_service(proxy.manifest, timeout=settings.api_timeout_seconds)
        except Exception as error:
            failed.append(where)
            warnings.append(f"could not create proxy {where}: {_one_line(error)}")
        else:
            created.append(where)
    return MutationResult(patched(plan.patch, warnings=warnings), plan, created, failed)


def record_rewrites(obj: JsonObject, rewrites: Sequence[Rewrite]) -> None:
    """Merge this admission's rewrites into the object's ``nsmigrate.io/rewritten-env`` annotation."""
    metadata = obj.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        return
    if metadata.get("annotations") is None:
        metadata["annotations"] = {}
    annotations = metadata["annotations"]
    if not isinstance(annotations, dict):
        return
    try:
        earlier = json.loads(annotations.get(labels.REWRITTEN_ENV, "[]"))
    except json.JSONDecodeError:
        earlier = []
    fresh = {(rewrite.container, rewrite.env) for rewrite in rewrites}
    kept = [
        entry
        for entry in (earlier if isinstance(earlier, list) else [])
        if isinstance(entry, dict) and (entry.get("container"), entry.get("env")) not in fresh
    ]
    records = kept + [rewrite.record() for rewrite in rewrites]
    annotations[labels.REWRITTEN_ENV] = json.dumps(records, separators=(",", ":"))


_WARNING_ROOM = 108
"""What a warning may hold before the API response's ``nsmigrate: `` prefix reaches 120 characters."""


def rewrite_warning(rewrite: Rewrite) -> str:
    """``env SERVICEB_URL (appa): serviceb -> serviceb.foobar.svc.cluster.local (url)``: where, what,
    and which rule fired, in under 120 characters (the first host, and how many more)."""
    where = rewrite.where
    host, target = rewrite.hosts[0]
    more = f" and {len(rewrite.hosts) - 1} more" if len(rewrite.hosts) > 1 else ""
    rules = ", ".join(dict.fromkeys(rewrite.rules))
    for text in (f"{where}: {host} -> {target}{more} ({rules})", f"{where}: {host} qualified{more} ({rules})"):
        if len(text) <= _WARNING_ROOM:
            return text
    tail = f": {len(rewrite.hosts)} qualified ({rules})"
    return where[: _WARNING_ROOM - len(tail) - 1] + "…" + tail


def _configmap_warnings(
    consumed: Mapping[str, frozenset[str] | None], *, namespace: str, view: ClusterView, resolver: Resolver
) -> list[str]:
    """ConfigMaps are not rewritten; say which of the ``consumed`` keys still hold short names of the old
    namespace (``consumed``: the workload's, as its record already read them)."""
    if not consumed:
        return []
    warnings = []
    for configmap in view.configmaps(namespace):
        if configmap.name not in consumed:
            continue
        keys = consumed[configmap.name]
        for key, hosts in sorted(configmap.key_hosts.items()):
            if keys is not None and key not in keys:
                continue
            qualified = [(host, name) for host in hosts if (name := _qualified_name(host, resolver))]
            if qualified:
                short, target = qualified[0]
                warnings.append(f"configmap {configmap.name} key {key} calls {short}: use {target}")
    return warnings


def _qualified_name(host: str, resolver: Resolver) -> str | None:
    decided = resolver.qualify(HostRef(0, len(host), host))
    return decided[0] if decided else None


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:80] or type(error).__name__
