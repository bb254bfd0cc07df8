"""``nsmigrate dev up`` / ``dev down``: a fresh local control plane with the webhook registered."""

from __future__ import annotations

import argparse
import sys

from webhook.core import settings
from webhook.dev.controlplane import COMPONENTS
from webhook.dev.environment import DevEnvironment


def up(args: argparse.Namespace) -> int:
    args.dir = args.dir.expanduser()
    if (previous := DevEnvironment.load(args.dir)) is not None:
        previous.down()
    environment = DevEnvironment(args.dir)
    environment.up(settings.from_env(), components=() if args.bare else COMPONENTS)
    print(environment.kubeconfig)
    return 0


def down(args: argparse.Namespace) -> int:
    args.dir = args.dir.expanduser()
    environment = DevEnvironment.load(args.dir)
    if environment is None:
        print(f"nothing running (no state in {args.dir})", file=sys.stderr)
        return 0
    environment.down()
    return 0
