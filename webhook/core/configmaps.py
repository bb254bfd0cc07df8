"""ConfigMaps on request: in a new namespace labelled ``nsmigrate.io/rewrite-configmaps: "true"``, the
data of ConfigMaps created or updated there is rewritten by the rules of env values (one-line values as
env values named by their key, file-shaped values line by line, every other byte kept).

Without the label, ConfigMaps are never changed; a workload consuming one that holds short names gets a
warning naming the key (``mutation``).
"""

from __future__ import annotations

from webhook.core import labels
from webhook.core.cluster import ClusterView
from webhook.core.fields import JsonObject, dig, strings
from webhook.core.hosts import find_data_hosts
from webhook.core.migration import migration_of
from webhook.core.mutation import MutationPlan, MutationResult, kept, record_rewrites, resolver_for, rewrite_warning
from webhook.core.patch import diff
from webhook.core.review import AdmissionRequest, Operation, patched
from webhook.core.rewrite import rewrite_data
from webhook.core.settings import Settings


def plan_configmap_mutation(
    obj: JsonObject, view: ClusterView, settings: Settings, *, namespace: str, operation: Operation
) -> MutationPlan:
    """Decide the patch and warnings for a ConfigMap CREATE or UPDATE. Writes nothing."""
    metadata = dig(obj, "metadata")
    data = strings(obj.get("data"))
    if not data or dig(metadata, "annotations").get(labels.SKIP) == "true":
        return MutationPlan()
    namespace = namespace or str(metadata.get("namespace", ""))
    migration, problem = migration_of(namespace, view=view, settings=settings)
    if migration is None or not _opted_in(view, namespace):
        # The API server only sends reviews from labelled namespaces: a cache that says otherwise lags.
        view = view.live()
        migration, problem = migration_of(namespace, view=view, settings=settings)
    if migration is None:
        return MutationPlan(warnings=[problem] if problem else [])
    if not _opted_in(view, namespace):
        return MutationPlan()

    hosts = [ref.host for key, value in data.items() for ref in find_data_hosts(value, key=key)]
    if not hosts:
        return MutationPlan()
    resolver = resolver_for(view, settings, namespace=namespace, old=migration.old, operation=operation, hosts=hosts)
    rewrites = rewrite_data(data, resolver, keep=kept(obj))
    if not rewrites:
        return MutationPlan()
    mutated = {**obj, "metadata": {**metadata, "annotations": dict(dig(metadata, "annotations"))}}
    mutated["data"] = {**obj["data"], **data}
    record_rewrites(mutated, rewrites)
    return MutationPlan(patch=diff(obj, mutated), rewrites=rewrites, warnings=list(map(rewrite_warning, rewrites)))


def _opted_in(view: ClusterView, namespace: str) -> bool:
    found = view.namespace(namespace)
    return found is not None and found.labels.get(labels.REWRITE_CONFIGMAPS) == "true"


def admit_configmap(request: AdmissionRequest, cluster: ClusterView, settings: Settings) -> MutationResult:
    """The admission answer for a ConfigMap: its patch and one warning per rewrite; no side effect."""
    plan = plan_configmap_mutation(
        request.get("object") or {},
        cluster,
        settings,
        namespace=request.get("namespace", ""),
        operation=request["operation"],
    )
    return MutationResult(patched(plan.patch, warnings=plan.warnings), plan)
