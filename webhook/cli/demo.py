"""``nsmigrate demo``: the seed migration on a fresh local control plane."""

from __future__ import annotations

import argparse

from webhook.dev import demo


def run(args: argparse.Namespace) -> int:
    demo.run()
    return 0
