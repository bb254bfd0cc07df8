"""The host finder's cost on the large benchmark review, in process: ``python -m bench.finder``.

Three figures, each the fastest of many passes over ``reviews.large_deployment`` (20 containers x 50 env
values, a fifth of them URLs of old-namespace Services):
- ``finder_cold_ms``: the finder over every env value, its caches emptied before each pass;
- ``admit_cold_ms``: the whole admission decision (``admit_workload``, dry run), caches emptied;
- ``admit_warm_ms``: the same with the caches as a running server has them (the same values again).
The script only uses what every version of the finder has, so that versions can be compared by running
it against each (``PYTHONPATH=<checkout> python bench/finder.py``).
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable

from bench import reviews
from tests.memory import MemoryCluster
from tests.reviews import review
from webhook.core import hosts
from webhook.core.mutation import admit_workload
from webhook.core.settings import Settings
from webhook.dev import seed

PASSES = 60


def forget() -> None:
    """Empty every cache of the finder module (how many there are differs between versions)."""
    for value in vars(hosts).values():
        if isinstance(value, functools._lru_cache_wrapper):
            value.cache_clear()


def best_ms(work: Callable[[], object], *, cold: bool) -> float:
    """The fastest of many passes: on a shared machine the others measure the neighbours."""
    times = []
    for _ in range(PASSES):
        if cold:
            forget()
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def main() -> int:
    cluster = MemoryCluster.of(
        seed.namespace("old", {"nsmigrate.io/source": "true"}),
        seed.namespace("new", {"nsmigrate.io/migrate-from": "old"}),
        *(seed.service(f"svc{n}", "old", f"svc{n}") for n in range(5)),
    )
    deployment = reviews.large_deployment("new")
    request = review(deployment, dry_run=True)["request"]
    values = [
        (entry["name"], entry["value"])
        for container in deployment["spec"]["template"]["spec"]["containers"]
        for entry in container["env"]
    ]

    def finder() -> None:
        for name, value in values:
            hosts.find_hosts(value, variable=name)

    def admit() -> None:
        admit_workload(request, cluster, Settings())

    forget()
    figures = {
        "finder_cold_ms": best_ms(finder, cold=True),
        "admit_cold_ms": best_ms(admit, cold=True),
        "admit_warm_ms": best_ms(admit, cold=False),
        "rewrites": len(admit_workload(request, cluster, Settings()).plan.rewrites),
    }
    json.dump(figures, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
