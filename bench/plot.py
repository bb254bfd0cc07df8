"""Plot admission latency against cluster size, and Deployment CREATE latency through the API server
under each setup (no webhook, the no-op floor, nsmigrate, Kyverno), from bench/results.json
(``make bench`` runs it).

python -m bench.plot [results.json] [latency.png] [creates.png]
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
CREATES_PLOT = PLOT.with_name("benchmarks-creates.png")
CREATE_SERIES = {
    "none": "no webhook",
    "noop": "no-op webhook (floor)",
    "nsmigrate_qualified": "nsmigrate, names qualified",
    "nsmigrate": "nsmigrate, first deploy",
    "kyverno": "Kyverno, mutate + generate",
}
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


def plot_creates(results: Path, out: Path) -> None:
    series = json.loads(results.read_text())["raw"]["creates"]["series"]
    names = [name for name in CREATE_SERIES if name in series]
    figure, axis = plt.subplots(figsize=(7, 4), dpi=120)
    positions = range(len(names))
    for offset, quantile in ((-0.2, "p50"), (0.2, "p99")):
        values = [series[name][f"{quantile}_ms"] for name in names]
        bars = axis.bar([p + offset for p in positions], values, width=0.4, label=quantile)
        axis.bar_label(bars, fmt="%.1f", fontsize=8)
    axis.set_xticks(list(positions), [CREATE_SERIES[name] for name in names], rotation=15, fontsize=8)
    axis.set_ylabel("Deployment CREATE, ms (through the API server)")
    axis.set_title("One run, interleaved batches: the floor, nsmigrate and its peer")
    axis.grid(alpha=0.3, axis="y")
    axis.legend()
    figure.tight_layout()
    figure.savefig(out)
    print(out)


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    plot(source, Path(sys.argv[2]) if len(sys.argv) > 2 else PLOT)
    plot_creates(source, Path(sys.argv[3]) if len(sys.argv) > 3 else CREATES_PLOT)
