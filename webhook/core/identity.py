"""Identities a move leaves behind: what grants or trusts a workload's ServiceAccount names the old
namespace (``system:serviceaccount:<old>:<name>``), so the moved pods lose it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from webhook.core.fields import JsonObject, dig, entries
from webhook.core.findings import Finding
from webhook.core.objects import Workload

WORKLOAD_IDENTITY = {
    "eks.amazonaws.com/role-arn": "an AWS IAM role (IRSA)",
    "iam.gke.io/gcp-service-account": "a Google service account (GKE Workload Identity)",
    "azure.workload.identity/client-id": "an Azure managed identity (Workload Identity)",
}
"""ServiceAccount annotations whose cloud-side trust names the namespace and the account."""


@dataclass(frozen=True, slots=True)
class Binding:
    """A RoleBinding or ClusterRoleBinding, reduced to its role and its ServiceAccount subjects."""

    kind: str
    namespace: str
    name: str
    role: tuple[str, str]
    """(kind, name) of the role it grants."""
    accounts: frozenset[tuple[str, str]]
    """(namespace, name) of the ServiceAccounts it grants it to."""


def binding_from_object(obj: JsonObject) -> Binding:
    metadata, role = dig(obj, "metadata"), dig(obj, "roleRef")
    namespace = str(metadata.get("namespace", ""))
    accounts = frozenset(
        (str(subject.get("namespace") or namespace), str(subject.get("name", "")))
        for subject in entries(obj.get("subjects"))
        if subject.get("kind") == "ServiceAccount"
    )
    return Binding(
        str(obj.get("kind", "")),
        namespace,
        str(metadata.get("name", "")),
        (str(role.get("kind", "")), str(role.get("name", ""))),
        accounts,
    )


def identity_findings(
    workload: Workload,
    *,
    old: str,
    bindings: Iterable[Binding],
    old_account_annotations: Mapping[str, str],
    mesh_policies: Iterable[JsonObject] = (),
) -> list[Finding]:
    """What the moved ``workload`` (in its new namespace) loses of the identity it had in ``old``."""
    account = next((need.name for need in workload.needs if need.kind == "ServiceAccount"), "default")
    before, after = (old, account), (workload.namespace, account)
    bindings = list(bindings)
    findings = []
    granted_after = {(b.kind, b.namespace, b.role) for b in bindings if after in b.accounts}
    for binding in bindings:
        if before in binding.accounts and (binding.kind, binding.namespace, binding.role) not in granted_after:
            where = f"{binding.kind.lower()} {binding.namespace + '/' if binding.namespace else ''}{binding.name}"
            message = (
                f"{where} grants {binding.role[0]} {binding.role[1]} to serviceaccount {old}/{account}; nothing "
                f"grants it to {workload.namespace}/{account}, which the moved pods run as"
            )
            findings.append(_finding(workload, message, where))
    for annotation, what in WORKLOAD_IDENTITY.items():
        if annotation in old_account_annotations:
            message = (
                f"serviceaccount {old}/{account} is bound to {what} ({annotation}); its trust names "
                f"system:serviceaccount:{old}:{account}: trust {workload.namespace}/{account} too before the move"
            )
            findings.append(_finding(workload, message, f"serviceaccount {old}/{account}"))
    principal = f"/ns/{old}/sa/{account}"
    for policy in mesh_policies:
        sources = [
            dig(peer, "source")
            for rule in entries(dig(policy, "spec").get("rules"))
            for peer in entries(rule.get("from"))
        ]
        principals = [str(p) for source in sources for p in source.get("principals") or ()]
        namespaces = [str(n) for source in sources for n in source.get("namespaces") or ()]
        if any(p.endswith(principal) for p in principals) or old in namespaces:
            where = (
                f"authorizationpolicy {dig(policy, 'metadata').get('namespace')}/{dig(policy, 'metadata').get('name')}"
            )
            message = (
                f"{where} admits principals or namespaces of {old}: the moved pods' identity is in {workload.namespace}"
            )
            findings.append(_finding(workload, message, where))
    return findings


def _finding(workload: Workload, message: str, cause: str) -> Finding:
    return Finding(
        "IdentityBoundToOldNamespace", workload.kind, workload.namespace, workload.name, message, cause=cause
    )
