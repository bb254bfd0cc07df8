"""Where a pod spec lives in each workload kind, and walking it: containers, literal references, and
the ConfigMaps it consumes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from webhook.core.fields import JsonObject, dig, entries
from webhook.core.hosts import HostRef, find_hosts, flag_before, host_variables

POD_TEMPLATE_PATHS: Mapping[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
"""Where each workload kind keeps its pod template; a bare Pod is its own template."""

WORKLOAD_KINDS = (*POD_TEMPLATE_PATHS, "Pod")
"""Everything with a pod spec: the workload kinds and bare Pods."""

CONTAINER_LISTS = ("initContainers", "containers")


def pod_template(obj: JsonObject) -> JsonObject | None:
    """The pod template of a workload object (the Pod itself for a Pod), or None."""
    kind = obj.get("kind")
    if kind == "Pod":
        return obj
    path = POD_TEMPLATE_PATHS.get(str(kind))
    return (dig(obj, *path) or None) if path else None


def env_editable_copy(obj: JsonObject) -> JsonObject:
    """A copy of a workload object in which annotations, env entries, args and command may be changed;
    every other part is shared with ``obj`` (which stays untouched), so copying and diffing cost little."""
    copy = dict(obj)
    if isinstance(obj.get("metadata"), dict):
        copy["metadata"] = dict(obj["metadata"])
        if isinstance(obj["metadata"].get("annotations"), dict):
            copy["metadata"]["annotations"] = dict(obj["metadata"]["annotations"])
    node = copy
    path = () if obj.get("kind") == "Pod" else POD_TEMPLATE_PATHS.get(str(obj.get("kind")), ())
    for key in (*path, "spec"):
        if not isinstance(node.get(key), dict):
            return copy
        node[key] = dict(node[key])
        node = node[key]
    for list_name in CONTAINER_LISTS:
        if isinstance(node.get(list_name), list):
            node[list_name] = [_env_copy(container) for container in node[list_name]]
    return copy


def _env_copy(container: object) -> object:
    if not isinstance(container, dict):
        return container
    copy = dict(container)
    if isinstance(container.get("env"), list):
        copy["env"] = [dict(entry) if isinstance(entry, dict) else entry for entry in container["env"]]
    for list_name in ARGUMENT_LISTS:
        if isinstance(container.get(list_name), list):
            copy[list_name] = list(container[list_name])
    return copy


def containers(pod_spec: JsonObject) -> Iterator[JsonObject]:
    """Init containers then containers: every container whose env nsmigrate reads."""
    for list_name in CONTAINER_LISTS:
        yield from entries(pod_spec.get(list_name))


ARGUMENT_LISTS = ("command", "args")


class Literal(NamedTuple):
    """A literal string of a container that refers to hosts: an env value, an args or command entry.

    A tuple, not a dataclass: admission makes one per reference-holding value, and tuples come cheap."""

    container: str
    place: str
    """How records name it: the env name, or ``args[i]`` / ``command[i]``."""
    value: str
    refs: tuple[HostRef, ...]
    """The host references the one finder found in it."""
    holder: Any
    """The env entry or the list it lives in, and its key there: where a rewrite writes it back."""
    key: str | int


def literal_references(pod_spec: JsonObject) -> Iterator[Literal]:
    """Every literal env value, args and command entry of the containers and init containers that
    refers to a host. An argument is read under the flag just before it (``--redis-host redis``); an
    env value under its variable's name, and as a host when another value uses ``$(NAME)`` as one."""
    for container in containers(pod_spec):
        name = str(container.get("name", ""))
        env = [entry for entry in entries(container.get("env")) if isinstance(entry.get("value"), str)]
        arguments = list(_arguments(container))
        used = frozenset[str]()
        if any("$(" in entry["value"] for entry in env) or any("$(" in item for *_, item in arguments):
            named = [(str(entry.get("name", "")), entry["value"]) for entry in env]
            used = host_variables(named + [(flag, item) for _, _, flag, item in arguments])
        for entry in env:
            variable = str(entry.get("name", ""))
            if refs := find_hosts(entry["value"], variable=variable, used_as_host=variable in used):
                yield Literal(name, variable, entry["value"], refs, entry, "value")
        for items, index, flag, item in arguments:
            if refs := find_hosts(item, variable=flag):
                place = f"{'args' if items is container.get('args') else 'command'}[{index}]"
                yield Literal(name, place, item, refs, items, index)


def _arguments(container: JsonObject) -> Iterator[tuple[list[Any], int, str, str]]:
    """(list, index, flag before it, entry) for the string entries of ``command`` and ``args``."""
    for list_name in ARGUMENT_LISTS:
        items = container.get(list_name)
        if not isinstance(items, list):
            continue
        previous = ""
        for index, item in enumerate(items):
            if isinstance(item, str):
                yield items, index, flag_before(previous), item
            previous = item if isinstance(item, str) else ""


def consumed_configmaps(pod_spec: JsonObject) -> dict[str, frozenset[str] | None]:
    """ConfigMaps a pod spec reads: name -> the keys it reads, or None for all of them.

    envFrom and volumes read every key; configMapKeyRef reads one.
    """
    whole: set[str] = set()
    keys: dict[str, set[str]] = {}
    for container in containers(pod_spec):
        for source in entries(container.get("envFrom")):
            whole.add(_name(source.get("configMapRef")))
        for entry in entries(container.get("env")):
            if "valueFrom" not in entry:
                continue  # most entries: a literal value
            ref = dig(entry, "valueFrom", "configMapKeyRef")
            keys.setdefault(_name(ref), set()).add(str(ref.get("key", "")))
    for volume in entries(pod_spec.get("volumes")):
        whole.add(_name(volume.get("configMap")))
        for source in entries(dig(volume, "projected").get("sources")):
            whole.add(_name(source.get("configMap")))
    consumed: dict[str, frozenset[str] | None] = {name: frozenset(k) for name, k in keys.items()}
    consumed.update(dict.fromkeys(whole))
    consumed.pop("", None)
    return consumed


def _name(reference: object) -> str:
    """The ``name`` of a ConfigMap reference, or "" when there is none."""
    name = reference.get("name") if isinstance(reference, dict) else None
    return name if isinstance(name, str) else ""
