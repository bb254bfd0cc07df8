"""The labels and annotations of the product contract (shared/SPEC.md), in one place."""

from typing import Final

MIGRATE_FROM: Final = "nsmigrate.io/migrate-from"
"""On a new namespace: workloads here are migrating from the namespace named by the value."""

SOURCE: Final = "nsmigrate.io/source"
"""On an old namespace, value "true": consent for nsmigrate to create and manage proxies there."""

HANDOVER: Final = "nsmigrate.io/handover"
"""On a new namespace, value "manual": no automatic handover."""

SKIP: Final = "nsmigrate.io/skip"
"""On a workload, value "true": left alone."""

REWRITTEN_ENV: Final = "nsmigrate.io/rewritten-env"
"""On a workload or ConfigMap: JSON list of the rewrites nsmigrate made (env, args, command, data)."""

KEEP: Final = "nsmigrate.io/keep"
"""On a workload or ConfigMap: comma-separated variables (or ``args``, ``command``, data keys) left alone."""

REWRITE_CONFIGMAPS: Final = "nsmigrate.io/rewrite-configmaps"
"""On a new namespace, value "true": ConfigMaps created or updated there are rewritten too."""

ROLLED_BACK: Final = "nsmigrate.io/rolled-back"
"""On an old-namespace Service, the time it was rolled back: the automatic handover leaves it alone."""

PROXY_FOR: Final = "nsmigrate.io/proxy-for"
"""On a proxy Service: "namespace/name" of the Service it points at."""

ALLOW_DELETE: Final = "nsmigrate.io/allow-delete"
"""On a proxy, value "true": break-glass, deletion allowed even with callers."""

ORIGINAL_SPEC: Final = "nsmigrate.io/original-spec"
"""On a handed-over Service: the spec it had before it became a proxy."""

PROXY: Final = "nsmigrate.io/proxy"
"""On every proxy, value "true": created proxies and handed-over Services alike (the validating
webhook's objectSelector)."""

HANDOVER_OWNED: Final = "nsmigrate.io/handover-owned"
"""On a new namespace, value "true": Services owned by Helm, Argo CD or Flux are handed over too."""

MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGER: Final = "nsmigrate"

SERVICE_NAME: Final = "kubernetes.io/service-name"
"""On an EndpointSlice: the Service it serves."""

SLICE_MANAGED_BY: Final = "endpointslice.kubernetes.io/managed-by"
SLICE_MANAGER: Final = "nsmigrate.io"
"""The EndpointSlices nsmigrate mirrors into a handed-over Service carry this managed-by value."""

SLICE_CONTROLLER: Final = "endpointslice-controller.k8s.io"
"""Kubernetes' own EndpointSlice controller, whose slices a handed-over Service no longer needs."""

SLICE_MIRRORING: Final = "endpointslicemirroring-controller.k8s.io"
"""Kubernetes' endpointslice-mirroring controller: it mirrors the Endpoints the endpoint controller
leaves behind on a Service that lost its selector (nsmigrate deletes those Endpoints at handover)."""

NAMESPACE_NAME: Final = "kubernetes.io/metadata.name"
"""The label Kubernetes sets on every namespace: its own name (what policies select namespaces by)."""

ALLOW_CALLERS: Final = "nsmigrate.io/allow-callers"
"""On a new namespace, value "true": nsmigrate keeps a NetworkPolicy admitting exactly the known callers."""

SYSTEM_NAMESPACES: Final = frozenset({"kube-system", "kube-public", "kube-node-lease"})
"""Never a source or a target, whatever their labels (nsmigrate's own namespace joins them)."""
