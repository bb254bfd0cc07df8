"""What a pod spec needs to exist in its own namespace before its pods can start: Secrets, ConfigMaps,
image pull Secrets, its ServiceAccount and PersistentVolumeClaims; and what it serves on (named ports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from webhook.core.fields import JsonObject, dig, entries
from webhook.core.podspec import containers

DependencyKind = Literal["Secret", "ConfigMap", "ServiceAccount", "PersistentVolumeClaim"]


@dataclass(frozen=True, slots=True, order=True)
class Dependency:
    kind: DependencyKind
    name: str
    where: str
    """How the pod spec names it: ``env DB_PASSWORD``, ``volume certs``, ``imagePullSecrets``."""
    optional: bool = False
    """Marked ``optional: true``: its absence does not stop the pods (a warning, not a finding)."""


def dependencies(pod_spec: JsonObject) -> tuple[Dependency, ...]:
    """Every object the pod spec refers to by name, each once per place, sorted."""
    found: set[Dependency] = set()
    account = pod_spec.get("serviceAccountName") or pod_spec.get("serviceAccount")
    if isinstance(account, str) and account != "default":  # every namespace gets its own "default"
        found.add(Dependency("ServiceAccount", account, "serviceAccountName"))
    for secret in entries(pod_spec.get("imagePullSecrets")):
        _add(found, "Secret", secret, "imagePullSecrets")
    for container in containers(pod_spec):
        for source in entries(container.get("envFrom")):
            _add(found, "ConfigMap", source.get("configMapRef"), "envFrom")
            _add(found, "Secret", source.get("secretRef"), "envFrom")
        for entry in entries(container.get("env")):
            value_from = entry.get("valueFrom")
            if not isinstance(value_from, dict):
                continue  # most entries: a literal value, naming nothing
            where = f"env {entry.get('name', '')}"
            _add(found, "ConfigMap", value_from.get("configMapKeyRef"), where)
            _add(found, "Secret", value_from.get("secretKeyRef"), where)
    for volume in entries(pod_spec.get("volumes")):
        where = f"volume {volume.get('name', '')}"
        _add(found, "ConfigMap", volume.get("configMap"), where)
        secret = dig(volume, "secret")
        _add(found, "Secret", {"name": secret.get("secretName"), "optional": secret.get("optional")}, where)
        claim = dig(volume, "persistentVolumeClaim")
        _add(found, "PersistentVolumeClaim", {"name": claim.get("claimName")}, where)
        for source in entries(dig(volume, "projected").get("sources")):
            _add(found, "ConfigMap", source.get("configMap"), where)
            _add(found, "Secret", source.get("secret"), where)
    needs = tuple(sorted(found))
    return _SHARED.setdefault(needs, needs)


_SHARED: dict[tuple[Dependency, ...], tuple[Dependency, ...]] = {}
"""One tuple per distinct set: thousands of cached workloads share a handful of them."""


def named_ports(pod_spec: JsonObject) -> dict[str, tuple[int, str]]:
    """Container port name -> (number, protocol), as NetworkPolicies and Services resolve names."""
    ports: dict[str, tuple[int, str]] = {}
    for container in entries(pod_spec.get("containers")):
        for port in entries(container.get("ports")):
            if isinstance(port.get("name"), str) and isinstance(port.get("containerPort"), int):
                ports[port["name"]] = (port["containerPort"], str(port.get("protocol") or "TCP"))
    return ports


def _add(found: set[Dependency], kind: DependencyKind, reference: object, where: str) -> None:
    if not isinstance(reference, dict):
        return
    name = reference.get("name")
    if isinstance(name, str) and name:
        found.add(Dependency(kind, name, where, optional=reference.get("optional") is True))
