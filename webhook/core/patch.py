"""JSON Patch between an object and its changed copy, diffing only where the two differ.

``jsonpatch.make_patch`` on a whole Deployment with hundreds of env entries spends most of its time
matching list members that are equal anyway. Here equal subtrees are skipped with one ``==`` (done
in C), objects are compared key by key, lists of the same length element by element, and
``jsonpatch`` diffs only lists whose length changed. The result is the same kind of minimal patch.
"""

from __future__ import annotations

from typing import Any

import jsonpatch


def diff(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """Operations that turn ``before`` into ``after``."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        ops: list[dict[str, Any]] = [{"op": "remove", "path": _join(path, key)} for key in before if key not in after]
        for key, value in after.items():
            if key not in before:
                ops.append({"op": "add", "path": _join(path, key), "value": value})
            elif before[key] != value:
                ops += diff(before[key], value, _join(path, key))
        return ops
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):  # members came or went: let jsonpatch find the fewest moves
            return [_prefixed(op, path) for op in jsonpatch.make_patch(before, after).patch]
        return [op for index, (old, new) in enumerate(zip(before, after, strict=True)) if old != new
                for op in diff(old, new, f"{path}/{index}")]  # fmt: skip
    return [{"op": "replace", "path": path, "value": after}]


def _prefixed(op: dict[str, Any], path: str) -> dict[str, Any]:
    moved = {"from": path + op["from"]} if "from" in op else {}
    return {**op, "path": path + op["path"], **moved}


def _join(path: str, key: str) -> str:
    return f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"
