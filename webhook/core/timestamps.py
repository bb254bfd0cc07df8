"""Kubernetes timestamps: the one way they are written and read (RFC 3339, UTC, ``Z``)."""

from __future__ import annotations

import datetime


def rfc3339(moment: datetime.datetime, *, micro: bool = False) -> str:
    """``Time`` (seconds) or, with ``micro``, ``MicroTime`` as the API server writes them."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


def parse(text: object) -> datetime.datetime | None:
    """A timestamp written by the API server, a log line or ``rfc3339``; None if it is none."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
