"""JSON Patch between an object and its changed copy, diffing only where the two differ.

``jsonpatch.make_patch`` on a whole Deployment with hundreds of env entries spends most of its time
matching list members that are equal anyway. Here equal subtrees are skipped with one ``==`` (done
in C), lists of the same length are walked element by element, and ``jsonpatch`` diffs only the
smallest subtrees whose shape changed. The result is the same kind of minimal patch.
"""

from __future__ import annotations

from typing import Any

import jsonpatch


def diff(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """Operations that turn ``before`` into ``after``."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict) and before.keys() == after.keys():
        return [op for key in before for op in diff(before[key], after[key], f"{path}/{_escape(key)}")]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            op for index, pair in enumerate(zip(before, after, strict=True)) for op in diff(*pair, f"{path}/{index}")
        ]
    if isinstance(before, dict | list) and type(before) is type(after):
        return [_prefixed(op, path) for op in jsonpatch.make_patch(before, after).patch]
    return [{"op": "replace", "path": path, "value": after}]


def _prefixed(op: dict[str, Any], path: str) -> dict[str, Any]:
    moved = {"from": path + op["from"]} if "from" in op else {}
    return {**op, "path": path + op["path"], **moved}


def _escape(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")
