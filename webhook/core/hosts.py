"""Finding host references inside an environment value or a ConfigMap value.

This is the one host finder of the project: the rewriter, caller finding and every command use it.
It only finds; deciding what a reference means (short name, old full name, external) is the
caller's business.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_NAME = rf"{_LABEL}(?:\.{_LABEL})*\.?"
_HOST_PORT = rf"(?:\[[0-9A-Fa-f:.]+\]|{_NAME}|[0-9.]+)(?::\d{{1,5}})?"

# scheme://[userinfo@]host[:port][,host[:port]...] followed by the end of the authority.
# The scheme may itself hold colons (jdbc:postgresql://).
_URL = re.compile(
    rf"""
    (?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*(?::[A-Za-z][A-Za-z0-9+.-]*)*://
    (?:[^/?#\s;,@]*@)?
    (?P<authority>{_HOST_PORT}(?:,{_HOST_PORT})*)
    (?=[/?#\s;,]|$)
    (?P<rest>[/?#][^\s,;]*)?
    """,
    re.VERBOSE,
)
_AUTHORITY_ENTRY = re.compile(rf"(?P<host>{_NAME})(?::\d{{1,5}})?")

# host:port standing on its own: after a separator or the start, and not part of a longer token.
_BARE_HOST_PORT = re.compile(
    rf"(?<![A-Za-z0-9.:/@_%-])(?P<host>{_NAME}):\d{{1,5}}(?![A-Za-z0-9.:_-])",
)
_WHOLE_NAME = re.compile(rf"\s*(?P<host>{_NAME})\s*")

ADDRESS_WORDS = ("HOST", "ADDR", "SERVER", "SERVICE", "ENDPOINT", "URL", "URI", "DSN", "BROKER")
"""A value that is nothing but a name is a host only under a variable whose name holds one of these."""

_NOT_SERVICES = frozenset({"localhost"})


@dataclass(frozen=True)
class HostRef:
    """A host name found at ``value[start:end]``."""

    start: int
    end: int
    host: str

    @property
    def name(self) -> str:
        return dns_name(self.host)

    @property
    def is_short(self) -> bool:
        return is_short(self.host)


def dns_name(host: str) -> str:
    """A host as DNS compares it: lower case, without a trailing dot."""
    return host.rstrip(".").lower()


def is_short(host: str) -> bool:
    """A single DNS label (no dot, not even a trailing one): it resolves through the search path."""
    return "." not in host


_ADDRESS_WORD = re.compile("|".join(ADDRESS_WORDS), re.IGNORECASE)


def is_address_variable(variable: str) -> bool:
    """Whether a variable (or ConfigMap key) of this name may hold a bare host name."""
    return _ADDRESS_WORD.search(variable) is not None


def find_hosts(value: str, *, variable: str = "") -> tuple[HostRef, ...]:
    """Every host reference in ``value``, in order; ``variable`` is the env name or data key."""
    return _find_hosts(value, variable)


@functools.lru_cache(maxsize=8192)
def _find_hosts(value: str, variable: str) -> tuple[HostRef, ...]:
    # Remembered: the same manifests are applied again and again, and many share their values.
    return tuple(_scan(value, variable))


def _scan(value: str, variable: str) -> list[HostRef]:
    if ":" not in value:  # no URL, no host:port: at most a bare name (the common case, kept cheap)
        whole = _WHOLE_NAME.fullmatch(value) if is_address_variable(variable) else None
        return [ref] if whole and _is_name(ref := _ref(value, whole.start("host"), whole.end("host"))) else []
    found: list[HostRef] = []
    taken: list[tuple[int, int]] = []
    for url in _URL.finditer(value):
        offset = url.start("authority")
        for entry in url.group("authority").split(","):
            host = _AUTHORITY_ENTRY.fullmatch(entry)
            if host:
                found.append(_ref(value, offset + host.start("host"), offset + host.end("host")))
            offset += len(entry) + 1
        taken.append((url.start(), url.end()))
    for match in _BARE_HOST_PORT.finditer(value):
        if not any(start <= match.start() < end for start, end in taken):
            found.append(_ref(value, match.start("host"), match.end("host")))
    if not found and is_address_variable(variable):
        whole = _WHOLE_NAME.fullmatch(value)
        if whole:
            found.append(_ref(value, whole.start("host"), whole.end("host")))
    return sorted((ref for ref in found if _is_name(ref)), key=lambda ref: ref.start)


def _ref(value: str, start: int, end: int) -> HostRef:
    return HostRef(start=start, end=end, host=value[start:end])


def _is_name(ref: HostRef) -> bool:
    """Host names only: no IP addresses, no localhost."""
    labels = ref.name.split(".")
    if all(label.isdigit() for label in labels):
        return False
    return ref.name not in _NOT_SERVICES


def replace_hosts(value: str, replacements: dict[HostRef, str]) -> str:
    """``value`` with each given reference replaced; everything else stays byte for byte."""
    pieces: list[str] = []
    cursor = 0
    for ref in sorted(replacements, key=lambda ref: ref.start):
        pieces.append(value[cursor : ref.start])
        pieces.append(replacements[ref])
        cursor = ref.end
    pieces.append(value[cursor:])
    return "".join(pieces)
