"""Waiting on a condition, never on the clock: the one poll loop of the dev cluster, demo and tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll_until(probe: Callable[[], T | None], *, timeout: float, interval: float = 0.05, what: str = "") -> T:
    """The first truthy answer of ``probe``, asked every ``interval`` seconds; ``TimeoutError``
    naming ``what`` (or the probe) once ``timeout`` seconds pass without one. Errors ``probe``
    raises propagate: a probe that knows the wait is hopeless says so at once."""
    deadline = time.monotonic() + timeout
    while True:
        if answer := probe():
            return answer
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what or getattr(probe, '__name__', 'the condition')} not met within {timeout:g} s")
        time.sleep(interval)
