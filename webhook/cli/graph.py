"""``nsmigrate graph``: who calls whom across namespaces, proxies drawn as such."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

from webhook.cli.snapshot import migrating, print_data, snapshot
from webhook.core import graph, render


def run(args: argparse.Namespace) -> int:
    cache, config = snapshot(args)
    namespaces = args.namespace or migrating(cache)
    drawn = graph.call_graph(cache, config, namespaces=namespaces)
    if args.output in ("json", "yaml"):
        edges = [{"from": e.caller, "to": e.service, "proxy": e.dashed} for e in drawn.edges]
        print_data({"namespaces": drawn.namespaces, "proxies": sorted(drawn.proxies), "edges": edges}, args.output)
    elif args.output == "mermaid":
        print(render.mermaid(drawn), end="")
    elif args.output == "dot":
        print(render.dot(drawn), end="")
    else:
        graphviz = shutil.which("dot")
        if graphviz is None:
            raise ValueError(
                "-o png needs Graphviz's `dot` on PATH (apt-get install graphviz); -o dot or mermaid need nothing"
            )
        out = args.out or Path("graph.png")
        subprocess.run([graphviz, "-Tpng", "-o", str(out)], input=render.dot(drawn), text=True, check=True)
        print(out)
    return 0
