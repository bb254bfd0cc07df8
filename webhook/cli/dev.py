"""``nsmigrate dev up`` / ``dev down``: a fresh local control plane with the webhook registered.

The development tooling (``webhook.dev``) is imported when a command needs it, never at start: the
container image leaves it out, and ``nsmigrate serve`` must not depend on it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from webhook.core import settings


@contextmanager
def dev_tooling(command: str) -> Iterator[None]:
    """Around the import of ``webhook.dev``: its absence (the container image) reads as one clear error."""
    try:
        yield
    except ModuleNotFoundError as missing:
        if not (missing.name or "").startswith(("webhook.dev", "dns")):
            raise
        raise RuntimeError(
            f"`nsmigrate {command}` needs the development tooling ({missing.name}), which this installation"
            " leaves out (the container image does): run it from a source checkout (`make demo`)"
        ) from None


def up(args: argparse.Namespace) -> int:
    with dev_tooling("dev up"):
        from webhook.dev.controlplane import COMPONENTS  # noqa: PLC0415 (see the module docstring)
        from webhook.dev.environment import DevEnvironment  # noqa: PLC0415
    args.dir = args.dir.expanduser()
    if (previous := DevEnvironment.load(args.dir)) is not None:
        previous.down()
    environment = DevEnvironment(args.dir)
    environment.up(settings.from_env(), components=() if args.bare else COMPONENTS)
    print(environment.kubeconfig)
    return 0


def down(args: argparse.Namespace) -> int:
    with dev_tooling("dev down"):
        from webhook.dev.environment import DevEnvironment  # noqa: PLC0415 (see the module docstring)
    args.dir = args.dir.expanduser()
    environment = DevEnvironment.load(args.dir)
    if environment is None:
        print(f"nothing running (no state in {args.dir})", file=sys.stderr)
        return 0
    environment.down()
    return 0
