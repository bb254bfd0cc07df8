"""JSON helpers: read fields of objects that come from anyone who can reach the webhook, shapes checked.

``shared`` and ``shared_strings`` intern the strings that thousands of cached objects repeat.
"""

from __future__ import annotations

import sys
from typing import Any

JsonObject = dict[str, Any]


def dig(obj: object, *path: str) -> JsonObject:
    """The object at ``path`` inside ``obj``, or {} where anything on the way is missing or not an object.

    Reviews may come from anyone who can reach the webhook: shapes are checked, not trusted.
    """
    node = obj
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def entries(value: object) -> list[JsonObject]:
    """The objects of a list field (env, containers, ports, ...), skipping anything else."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def strings(value: object) -> dict[str, str]:
    """A string-to-string map field (labels, annotations, selector, data), skipping other values."""
    return {str(k): v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) else {}


def shared(value: object) -> str:
    """A string stored once however many cached objects repeat it (namespaces, kinds, labels)."""
    return sys.intern(str(value))


def shared_strings(value: object) -> dict[str, str]:
    """``strings``, with keys and values shared: label sets repeat across thousands of objects."""
    return {shared(k): shared(v) for k, v in strings(value).items()}
