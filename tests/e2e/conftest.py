"""End-to-end fixtures: one real etcd + kube-apiserver per test session, calling the webhook over TLS.

If the control plane cannot be built or started, every e2e test errors with the reason: they never skip.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from webhook.core.settings import Settings
from webhook.dev.controlplane import COMPONENTS
from webhook.dev.environment import DevEnvironment
from webhook.kube.client import Kube

_names = itertools.count()
SETTINGS = Settings(orphan_grace_seconds=2, lease_seconds=3)
"""Short grace and lease, so that orphan removal and a leader hand-over fit in a test."""


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevEnvironment]:
    environment = DevEnvironment(Path(tmp_path_factory.mktemp("dev")))
    environment.up(SETTINGS)
    yield environment
    environment.down()


@pytest.fixture(scope="session")
def full(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevEnvironment]:
    """A second environment with every component (controller manager, scheduler, kwok, CoreDNS):
    Deployments roll out, slices are real, names resolve. Shared by the handover, mirror and data
    path tests, each in namespaces of its own; a test that stops its webhook restarts it in ``finally``."""
    environment = DevEnvironment(Path(tmp_path_factory.mktemp("full")))
    environment.up(SETTINGS, components=COMPONENTS)
    yield environment
    environment.down()


@pytest.fixture(scope="session")
def kube(dev: DevEnvironment) -> Kube:
    return Kube.connect(str(dev.kubeconfig))


@pytest.fixture
def names() -> tuple[str, str]:
    """A fresh (old, new) namespace pair per test: namespaces are never reused between tests."""
    number = next(_names)
    return f"old{number}", f"new{number}"
