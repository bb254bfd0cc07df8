"""The validating webhook: a proxy cannot be deleted while anything still calls it.

``decide_deletion`` only reads (through the cluster view) and decides; the audit trail of what it
decided is ``webhook.core.audit``'s business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from webhook.core import labels
from webhook.core.callers import Caller, callers_of, find_callers
from webhook.core.cluster import ClusterView
from webhook.core.fields import dig
from webhook.core.objects import service_from_object
from webhook.core.review import AdmissionRequest
from webhook.core.settings import Settings

MAX_NAMED_CALLERS = 10

Verdict = Literal["allowed", "denied", "forced"]


@dataclass(frozen=True)
class DeletionDecision:
    """What happens to a DELETE of a Service: allowed quietly, denied, or forced (allowed and audited)."""

    verdict: Verdict
    proxy: str = ""
    target: str = ""
    callers: list[Caller] = field(default_factory=list)
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.verdict != "denied"

    def message(self) -> str:
        """The denial message: who still calls the proxy (ten at most), and the ways out."""
        named = "; ".join(caller.describe() for caller in self.callers[:MAX_NAMED_CALLERS])
        more = len(self.callers) - MAX_NAMED_CALLERS
        if more > 0:
            named += f"; and {more} more"
        return (
            f"proxy {self.proxy} still has callers: {named}. Point them at {self.target} and redeploy, "
            f'or annotate the proxy {labels.ALLOW_DELETE}="true" to force the deletion'
        )


def decide_deletion(request: AdmissionRequest, view: ClusterView, settings: Settings) -> DeletionDecision:
    """Decide a Service DELETE. Only nsmigrate's proxies are ever refused."""
    if request["operation"] != "DELETE":
        return DeletionDecision("allowed")
    service = service_from_object(dig(request, "oldObject"))
    namespace = service.namespace or request.get("namespace", "")
    name = service.name or request.get("name", "")
    if not service.is_proxy:
        return DeletionDecision("allowed")
    proxy = f"{namespace}/{name}"
    target_namespace, target_name = service.proxy_target or ("", "")
    target = f"{target_name}.{target_namespace}.svc.{settings.cluster_domain}" if target_name else "the new name"
    if service.annotations.get(labels.ALLOW_DELETE) == "true":
        return DeletionDecision("forced", proxy, target, reason=f"annotated {labels.ALLOW_DELETE}=true")
    owner = view.namespace(namespace)
    if owner is None or owner.terminating:
        return DeletionDecision("forced", proxy, target, reason=f"namespace {namespace} is terminating")  # or gone
    domain = settings.cluster_domain
    callers = callers_of(name, namespace, view=view, cluster_domain=domain) or _fresh_callers(
        name, namespace, view=view, cluster_domain=domain
    )
    if callers:
        return DeletionDecision("denied", proxy, target, callers)
    return DeletionDecision("allowed", proxy, target)


def _fresh_callers(name: str, namespace: str, *, view: ClusterView, cluster_domain: str) -> list[Caller]:
    """Before a deletion is allowed: the callers the API server knows now in the proxy's own namespace.

    The cache may not have seen a caller written milliseconds before this DELETE (``kubectl apply``
    of a caller, then the proxy's deletion). Short-name callers live in the proxy's namespace, so that
    namespace's workloads and ConfigMaps are read fresh (``ClusterView.fresh_contents``) once the cache
    finds none; a caller elsewhere by the full old name is judged from the cache."""
    workloads, configmaps = view.fresh_contents(namespace)
    return find_callers(
        service=name, namespace=namespace, workloads=workloads, configmaps=configmaps, cluster_domain=cluster_domain
    )
