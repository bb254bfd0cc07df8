"""Who else manages a Service: Helm, Argo CD or Flux would put back what nsmigrate changes."""

from __future__ import annotations

from webhook.core import labels
from webhook.core.objects import Service


def owner_of(service: Service) -> str | None:
    """The Helm release, Argo CD application or Flux object that manages ``service``, if any."""
    release = service.annotations.get("meta.helm.sh/release-name")
    if release or service.labels.get(labels.MANAGED_BY) == "Helm":
        return f"Helm release {release}" if release else "Helm"
    instance = service.labels.get("argocd.argoproj.io/instance")
    tracking = service.annotations.get("argocd.argoproj.io/tracking-id", "")
    if instance or tracking:
        return f"Argo CD application {instance or tracking.partition(':')[0]}"
    for key, what in (
        ("kustomize.toolkit.fluxcd.io/name", "Flux Kustomization"),
        ("helm.toolkit.fluxcd.io/name", "Flux HelmRelease"),
    ):
        if name := service.labels.get(key):
            return f"{what} {name}"
    return None
