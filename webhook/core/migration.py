"""Which namespace a namespace migrates from, and whether that one consents to proxies."""

from __future__ import annotations

from dataclasses import dataclass

from webhook.core import labels
from webhook.core.cluster import ClusterView
from webhook.core.settings import Settings


@dataclass(frozen=True)
class Migration:
    new: str
    old: str
    consent: bool
    """The old namespace carries ``nsmigrate.io/source: "true"``: proxies may be made there."""


def migration_of(namespace: str, *, view: ClusterView, settings: Settings) -> tuple[Migration | None, str]:
    """The migration ``namespace`` is the new side of, or None with the reason ("" when unlabelled)."""
    found = view.namespace(namespace)
    old = (found.labels if found else {}).get(labels.MIGRATE_FROM)
    if not old:
        return None, ""
    if {namespace, old} & settings.protected_namespaces or old == namespace:
        return None, f"{labels.MIGRATE_FROM}={old} on namespace {namespace} is ignored"
    source = view.namespace(old)
    if source is None:
        return None, f"namespace {old} ({labels.MIGRATE_FROM} of {namespace}) does not exist"
    return Migration(new=namespace, old=old, consent=source.labels.get(labels.SOURCE) == "true"), ""
