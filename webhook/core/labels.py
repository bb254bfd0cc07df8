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

MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGER: Final = "nsmigrate"

SYSTEM_NAMESPACES: Final = frozenset({"kube-system", "kube-public", "kube-node-lease"})
"""Never a source or a target, whatever their labels (nsmigrate's own namespace joins them)."""
