"""``nsmigrate demo``: the seed migration on a fresh local control plane."""

from __future__ import annotations

import argparse

from webhook.cli.dev import dev_tooling


def run(args: argparse.Namespace) -> int:
    with dev_tooling("demo"):
        from webhook.dev import demo  # noqa: PLC0415 (the development tooling loads only when asked for)
    demo.run()
    return 0
