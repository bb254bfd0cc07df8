"""Namespaces from the downward API: ``zk-0.zk-headless.$(POD_NAMESPACE).svc.cluster.local`` where the
container sets ``POD_NAMESPACE`` from ``fieldRef: metadata.namespace`` (Kafka, ZooKeeper and PostgreSQL HA
charts write them). After a move ``$(POD_NAMESPACE)`` names the new namespace; where the Service named
exists only in the old one, the variable is replaced by the old namespace's name (rule
``downward-namespace``)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from webhook.core.fields import JsonObject, dig, entries

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_VARIABLE = r"\$\([A-Za-z_][A-Za-z0-9_]*\)"
_REFERENCE = re.compile(
    rf"(?:(?<![\w.-])|(?<=^\.))(?P<host>(?:(?P<pod>{_LABEL}|{_VARIABLE})\.)?(?P<service>{_LABEL}|{_VARIABLE}))"
    rf"\.\$\((?P<variable>[A-Za-z_][A-Za-z0-9_]*)\)(?![\w-])"
)
"""``[<pod>.]<service>.$(VAR)``: the pod label may itself be a variable (``$(MY_POD_NAME).kafka-headless``), and
so may the Service's (``$(K8S_SERVICE_NAME)``, set to the name in the same container); a value may be a
host name suffix (``.$(K8S_SERVICE_NAME).$(MY_POD_NAMESPACE).svc.cluster.local``)."""
_SERVICE_NAME = re.compile(_LABEL)

RULE = "downward-namespace"


@dataclass(frozen=True)
class DownwardRef:
    """``$(variable)`` at ``value[start:end]`` names the namespace of ``service`` (a pod under it if ``pod``)."""

    start: int
    end: int
    service: str
    pod: str
    variable: str

    @property
    def host(self) -> str:
        """The name as the container's own namespace resolves it: ``svc``, or ``pod.svc``."""
        return f"{self.pod}.{self.service}" if self.pod else self.service


def namespace_variables(container: JsonObject) -> frozenset[str]:
    """The env variables a container sets from ``fieldRef: metadata.namespace``."""
    sourced = [entry for entry in entries(container.get("env")) if "valueFrom" in entry]  # most are literal
    if not sourced:
        return _NONE
    return frozenset(
        str(entry.get("name", ""))
        for entry in sourced
        if dig(entry, "valueFrom", "fieldRef").get("fieldPath") == "metadata.namespace"
    )


_NONE: frozenset[str] = frozenset()


def label_variables(container: JsonObject) -> dict[str, str]:
    """The env variables a container sets to a literal single DNS label (``K8S_SERVICE_NAME=mq-headless``):
    what a ``$(NAME)`` standing for a Service's label means."""
    return {
        str(entry.get("name", "")): value.lower()
        for entry in entries(container.get("env"))
        if isinstance(value := entry.get("value"), str) and _SERVICE_NAME.fullmatch(value)
    }


def find_downward(
    value: str, variables: frozenset[str], *, labels: Mapping[str, str] | None = None
) -> Iterator[DownwardRef]:
    """Every ``<service>.$(VAR)`` in ``value`` whose VAR is one of the namespace ``variables``; a Service
    label written ``$(NAME)`` is read from ``labels`` (and the reference skipped where NAME is not there)."""
    if "$(" not in value or not variables:
        return
    for match in _REFERENCE.finditer(value):
        if match.group("variable") not in variables:
            continue
        service = match.group("service")
        if service.startswith("$("):
            service = (labels or {}).get(service[2:-1], "")
            if not service:
                continue
        pod = match.group("pod") or ""
        yield DownwardRef(
            start=match.start("variable") - 2,
            end=match.end("variable") + 1,
            service=service.lower(),
            pod=pod if not pod.startswith("$(") else "",
            variable=match.group("variable"),
        )


def literals(container: JsonObject) -> Iterator[tuple[Any, str | int, str]]:
    """(holder, key, place) of every literal env value, args and command entry of a container."""
    for entry in entries(container.get("env")):
        if isinstance(entry.get("value"), str):
            yield entry, "value", str(entry.get("name", ""))
    for list_name in ("command", "args"):
        items = container.get(list_name)
        for index, item in enumerate(items if isinstance(items, list) else ()):
            if isinstance(item, str):
                yield items, index, f"{list_name}[{index}]"


def downward_hosts(pod_spec: JsonObject) -> Iterator[tuple[str, str]]:
    """(place, host) of every downward reference of a pod spec, the host as its own namespace resolves
    it (``zk-0.zk-headless``): what makes a workload a caller of that Service in its namespace."""
    for container in entries(pod_spec.get("initContainers")) + entries(pod_spec.get("containers")):
        variables = namespace_variables(container)
        if variables:
            labels = label_variables(container)
            for holder, key, place in literals(container):
                yield from ((place, ref.host) for ref in find_downward(holder[key], variables, labels=labels))
