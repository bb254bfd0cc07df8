"""Plot admission latency against cluster size from bench/results.json (``make bench`` runs it).

python -m bench.plot [results.json] [out.png]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.run import RESULTS

PLOT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks-latency.png"
SERIES = {
    "noop": "no-op floor",
    "mutate": "/mutate (typical)",
    "validate": "/validate",
    "mutate_large": "/mutate (large)",
}


def plot(results: Path, out: Path) -> None:
    steps = json.loads(results.read_text())["raw"]["steps"]
    objects = [step["objects"] for step in steps]
    figure, axis = plt.subplots(figsize=(7, 4), dpi=120)
    for key, label in SERIES.items():
        axis.plot(objects, [step["admissions"][key]["p50_ms"] for step in steps], marker="o", label=f"{label} p50")
    axis.set_xscale("symlog", linthresh=100)
    axis.set_xlabel("objects in the cluster (cached by nsmigrate)")
    axis.set_ylabel("latency, ms (TLS, keep-alive)")
    axis.set_title("nsmigrate admission latency against cluster size")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    print(out)


if __name__ == "__main__":
    plot(Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS, Path(sys.argv[2]) if len(sys.argv) > 2 else PLOT)
