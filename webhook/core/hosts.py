"""Finding host references in a value: an env value, an args or command entry, a ConfigMap value.

This is the one host finder of the project: the rewriter, caller finding and every command use it.
It only finds, and says by which rule; deciding what a reference means (short name, pod name, old full
name, external) is the caller's business.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_NAME = rf"{_LABEL}(?:\.{_LABEL})*\.?"
_HOST_PORT = rf"(?:\[[0-9A-Fa-f:.]+\]|{_NAME}|[0-9.]+)(?::\d{{1,5}})?"

# scheme://[userinfo@]host[:port][,host[:port]...] followed by the end of the authority (quotes and
# brackets end it too: "http://api:8080" in JSON, a shell script or a YAML file).
# The scheme may itself hold colons (jdbc:postgresql://, influxdb:http://).
_URL = re.compile(
    rf"""
    (?<![A-Za-z0-9+.-])(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*(?::[A-Za-z][A-Za-z0-9+.-]*)*)://
    (?:[^/?#\s;,@]*@)?
    (?P<authority>{_HOST_PORT}(?:,{_HOST_PORT})*)
    (?=[/?#\s;,"'()<>\[\]{{}}|\\]|$)
    (?P<rest>[/?#][^\s,;"'<>]*)?
    """,
    re.VERBOSE,
)
_AUTHORITY_ENTRY = re.compile(rf"(?P<host>{_NAME})(?::\d{{1,5}})?")
_QUERY_PARAMETER = re.compile(r"(?P<key>[^&=#]+)=(?P<value>[^&#]*)")

BUCKET_SCHEMES = frozenset({"s3", "s3a", "s3n", "gs", "gcs", "oss", "cos", "r2"})
"""Schemes whose authority names a bucket, never a host (``s3://bucket?endpoint=minio:9000``)."""

# host:port standing on its own (also id@host:port, and host:port:port[:role][::id] as ZooKeeper writes it):
# after a separator or the start, and not part of a longer token.
_BARE_HOST_PORT = re.compile(
    rf"(?<![A-Za-z0-9.:/_%-])(?P<host>{_NAME})(?::\d{{1,5}})+(?::(?:participant|observer))?(?:::\d+)?(?![A-Za-z0-9.:_-])",
)

# Connection-string keys: Server=db;..., Host=postgres;Port=5432, Data Source=tcp:db,1433, host=db port=5432.
_CONNECTION_KEY = re.compile(
    r"(?<![^\s;,?&\"'(])(?:server|servers|host|hosts|hostname|data\s?source|address|addr|network\s?address)"
    r"\s*=\s*(?P<value>[^;\s\"'&]+)",
    re.IGNORECASE,
)
_CONNECTION_ENTRY = re.compile(rf"(?:tcp:)?(?P<host>{_NAME})(?::\d{{1,5}})?", re.IGNORECASE)

# A flag and the name it is given: --redis-host redis, --upstream=api, -Dspring.redis.host=redis.
_FLAG = re.compile(
    rf"(?<![^\s\"'])(?P<flag>--?[A-Za-z][A-Za-z0-9_.-]*)(?:=|\s+)[\"']?(?P<host>{_NAME})[\"']?(?=[\s;\"']|$)"
)
_FLAG_ONLY = re.compile(r"--?[A-Za-z][A-Za-z0-9_.-]*")

_WHOLE_NAMES = re.compile(rf"\s*{_NAME}(?:\s*,\s*{_NAME})*\s*")
_ONE_NAME = re.compile(_NAME)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_VARIABLE_REFERENCE = re.compile(r"\$\((?P<variable>[A-Za-z_][A-Za-z0-9_.-]*)\)")

ADDRESS_WORDS = frozenset(
    {
        "HOST", "HOSTS", "HOSTNAME", "PGHOST", "ADDR", "ADDRS", "ADDRESS", "ADDRESSES", "SERVER", "SERVERS",
        "SERVICE", "ENDPOINT", "ENDPOINTS", "URL", "URLS", "URI", "URIS", "DSN", "BROKER", "BROKERS", "SEED",
        "SEEDS", "UPSTREAM", "UPSTREAMS",
    }
)  # fmt: skip
"""A value that is nothing but a name is a host under a variable that has one of these as a whole word."""

IDENTIFIER_WORDS = frozenset(
    {"NAME", "NAMES", "ID", "IDS", "USER", "USERNAME", "NAMESPACE", "ACCOUNT", "KEY", "TOKEN", "PASSWORD"}
)
"""A variable whose last word is one of these holds an identifier (OTEL_SERVICE_NAME, DB_USER), not an
address, whatever else its name says; HOST_NAME is the one exception (a host name)."""

CONNECTION_STRINGS_PREFIX = "connectionstrings__"
""".NET configuration: every ``ConnectionStrings__X`` key holds an address or a connection string."""

_NOT_SERVICES = frozenset({"localhost"})
_POD_NAMES = re.compile(rf"\s*{_LABEL}-\d+\.{_LABEL}(?:[\s,;]+{_LABEL}-\d+\.{_LABEL})*\s*")
POD_NAME_RULE = "pod name of a headless Service"
"""Names only pod-name-shaped (``<pod>-<n>.<svc>``) under any variable: hosts only where ``<svc>`` is a headless
Service of the old namespace (the resolver checks)."""

Rule = str
"""Which rule found a reference, for people: "url", "host:port", "connection string", ..."""


@dataclass(frozen=True)
class HostRef:
    """A host name found at ``value[start:end]``, and the rule that found it."""

    start: int
    end: int
    host: str
    rule: Rule = field(default="", compare=False)

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


_POD_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-\d+")


def pod_name(host: str) -> tuple[str, str] | None:
    """(pod, service) when ``host`` reads as a StatefulSet pod name under a Service, ``kafka-0.kafka``:
    exactly two labels, the first ending in ``-<ordinal>``. Whether the second is a Service (and not a
    namespace) is the caller's business."""
    pod, dot, service = host.partition(".")
    if not dot or "." in service or not service or not _POD_LABEL.fullmatch(pod.lower()):
        return None
    return pod, service.lower()


def lookup_names(host: str) -> tuple[str, ...]:
    """The names a found host may refer to a Service by: itself, and for a pod name (``db-0.db``,
    ``db-0.db.foobar.svc``) the Service it sits under (``db``, ``db.foobar.svc``)."""
    name = dns_name(host)
    first, dot, rest = name.partition(".")
    if dot and rest and _POD_LABEL.fullmatch(first):
        return (name, rest)
    return (name,)


def variable_words(variable: str) -> list[str]:
    """The words of a variable or flag name, upper case: split on ``_ - . __`` and on case changes."""
    return [word.upper() for word in _WORD.findall(variable)]


_ANY_ADDRESS_WORD = re.compile("HOST|ADDR|SERV|ENDPOINT|UR[LI]|DSN|BROKER|SEED|UPSTREAM|CONNECTIONSTRINGS__")
"""Some address word somewhere in an upper-cased name: a cheap first test, met by every ADDRESS_WORDS entry."""


def is_address_variable(variable: str) -> bool:
    """Whether a variable (or ConfigMap key, or flag) of this name may hold a bare host name."""
    if not _ANY_ADDRESS_WORD.search(variable.upper()):  # most names: one search, no splitting into words
        return False
    if variable.lower().startswith(CONNECTION_STRINGS_PREFIX):
        return True
    words = variable_words(variable)
    if not words:
        return False
    if words[-1] in IDENTIFIER_WORDS and words[-2:] != ["HOST", "NAME"]:
        return False
    # A flag named --service takes a Service *name* (peer-finder, ingress controllers), not an address.
    address = ADDRESS_WORDS - {"SERVICE"} if variable.startswith("-") else ADDRESS_WORDS
    return any(word in address for word in words)


def find_hosts(value: str, *, variable: str = "", used_as_host: bool = False) -> tuple[HostRef, ...]:
    """Every host reference in ``value``, in order; ``variable`` is the env name, data key or the flag
    before an argument; ``used_as_host``: another value of the container uses ``$(variable)`` as a host."""
    return _find_hosts(value, variable, used_as_host)


@functools.lru_cache(maxsize=16384)
def _find_hosts(value: str, variable: str, used_as_host: bool) -> tuple[HostRef, ...]:
    # Remembered: the same manifests are applied again and again, and many share their values.
    return tuple(_scan(value, variable, used_as_host))


def _scan(value: str, variable: str, used_as_host: bool = False) -> list[HostRef]:
    if not (":" in value or "=" in value or "-" in value or used_as_host or is_address_variable(variable)):
        return []  # no URL, host:port, key=value or flag, and no name that is an address: the common case
    if variable[-5:].upper() == "IMAGE":
        return []  # redis:7 under REDIS_IMAGE (or a YAML "image:" line) is an image and its tag
    found: dict[int, HostRef] = {}
    if ":" in value:
        _scan_colons(value, found)
    if "=" in value:
        _scan_connection_strings(value, found)
    if "-" in value:
        for match in _FLAG.finditer(value):
            if is_address_variable(match.group("flag")):
                _add(found, value, match.start("host"), match.end("host"), "address flag")
    if not found and (used_as_host or is_address_variable(variable)) and _WHOLE_NAMES.fullmatch(value):
        rule = f"$({variable}) used as a host" if used_as_host else "address variable"
        for name in _ONE_NAME.finditer(value):
            _add(found, value, name.start(), name.end(), rule)
    elif not found and "-" in value and _POD_NAMES.fullmatch(value):  # kafka-0.kafka-headless, any variable
        for name in _ONE_NAME.finditer(value):
            _add(found, value, name.start(), name.end(), POD_NAME_RULE)
    return sorted((ref for ref in found.values() if _is_name(ref)), key=lambda ref: ref.start)


def _scan_colons(value: str, found: dict[int, HostRef]) -> None:
    """URLs (their authority, then their query parameters) and host:port."""
    taken: list[tuple[int, int]] = []
    for url in _URL.finditer(value):
        if url.group("scheme").rpartition(":")[2].lower() not in BUCKET_SCHEMES:
            _scan_entries(
                value,
                found,
                offset=url.start("authority"),
                text=url.group("authority"),
                entry=_AUTHORITY_ENTRY,
                rule="url",
            )
        if url.group("rest") and "?" in url.group("rest"):
            _scan_query(value, url.start("rest") + url.group("rest").index("?") + 1, url.end("rest"), found)
        taken.append((url.start(), url.end()))
    for match in _BARE_HOST_PORT.finditer(value):
        if not any(start <= match.start() < end for start, end in taken):
            _add(found, value, match.start("host"), match.end("host"), "host:port")


def _scan_query(value: str, start: int, end: int, found: dict[int, HostRef]) -> None:
    """Hosts inside query parameter values: ``?endpoint=minio:9000``, ``?host=db``."""
    for parameter in _QUERY_PARAMETER.finditer(value, start, end):
        offset = parameter.start("value")
        for ref in _scan(parameter.group("value"), parameter.group("key")):
            _add(found, value, offset + ref.start, offset + ref.end, "query parameter")


def _scan_connection_strings(value: str, found: dict[int, HostRef]) -> None:
    for match in _CONNECTION_KEY.finditer(value):
        _scan_entries(
            value,
            found,
            offset=match.start("value"),
            text=match.group("value"),
            entry=_CONNECTION_ENTRY,
            rule="connection string",
        )


def _scan_entries(
    value: str, found: dict[int, HostRef], *, offset: int, text: str, entry: re.Pattern[str], rule: Rule
) -> None:
    """The hosts of a comma-separated list (``m1:27017,m2:27017``, ``db,1433``) at ``offset`` in ``value``."""
    for part in text.split(","):
        host = entry.fullmatch(part)
        if host:
            _add(found, value, offset + host.start("host"), offset + host.end("host"), rule)
        offset += len(part) + 1


def _add(found: dict[int, HostRef], value: str, start: int, end: int, rule: Rule) -> None:
    """Record a reference; the first rule to find a host keeps it."""
    if start not in found:
        found[start] = HostRef(start=start, end=end, host=value[start:end], rule=rule)


def _is_name(ref: HostRef) -> bool:
    """Host names only: no IP addresses, no localhost."""
    labels = ref.name.split(".")
    if all(label.isdigit() for label in labels):
        return False
    return ref.name not in _NOT_SERVICES


def flag_before(argument: str) -> str:
    """The flag an argument list entry names when its value comes as the next entry (``--redis-host``),
    or "" (the next entry is then read without a variable name)."""
    return argument if _FLAG_ONLY.fullmatch(argument) else ""


def host_variables(values: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The variables that some (variable, value) of a container uses as a host: ``$(NAME)`` standing
    where the finder would find a host (``http://$(OTEL_COLLECTOR_NAME):4317``)."""
    used: set[str] = set()
    for variable, value in values:
        if "$(" in value:
            used |= _host_variables(value, variable)
    return frozenset(used)


@functools.lru_cache(maxsize=4096)
def _host_variables(value: str, variable: str) -> frozenset[str]:
    # Each $(NAME) becomes a placeholder label, and the one finder says which ones stand as a host.
    names: dict[str, str] = {}

    def placeholder(match: re.Match[str]) -> str:
        token = f"nsmigrate-variable-{len(names)}-x"
        names[token] = match.group("variable")
        return token

    text = _VARIABLE_REFERENCE.sub(placeholder, value)
    return frozenset(names[ref.host] for ref in _scan(text, variable) if ref.host in names)


_KEYED_LINE = re.compile(
    r"""^\s*(?:export\s+|-\s+)?["']?(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)["']?\s*[:=]\s*(?P<value>.*?)[\s,;]*$"""
)


def find_data_hosts(value: str, *, key: str) -> tuple[HostRef, ...]:
    """Every host reference in a ConfigMap value: a one-line value as an env value named ``key``; a
    file-shaped value line by line (a ``key: value`` or ``key=value`` line names its own value)."""
    if "\n" not in value.strip():
        return find_hosts(value, variable=key)
    return _find_file_hosts(value)


@functools.lru_cache(maxsize=1024)
def _find_file_hosts(value: str) -> tuple[HostRef, ...]:
    refs: list[HostRef] = []
    offset = 0
    for line in value.splitlines(keepends=True):
        refs += (_shift(ref, offset) for ref in _find_line_hosts(line.rstrip("\r\n")))
        offset += len(line)
    return tuple(refs)


def _find_line_hosts(line: str) -> tuple[HostRef, ...]:
    keyed = _KEYED_LINE.match(line)
    found = find_hosts(line) if keyed is None or keyed.group("key")[-5:].upper() != "IMAGE" else ()
    if keyed is None or found:
        return found
    text, start = keyed.group("value"), keyed.start("value")
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text, start = text[1:-1], start + 1
    return tuple(_shift(ref, start) for ref in find_hosts(text, variable=keyed.group("key")))


def _shift(ref: HostRef, offset: int) -> HostRef:
    return replace(ref, start=ref.start + offset, end=ref.end + offset)


def line_of(value: str, position: int) -> int:
    """The 1-based line number of ``position`` in ``value``."""
    return value.count("\n", 0, position) + 1


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
