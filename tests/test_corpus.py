"""The reference corpus: real env values and args/command entries from public manifests, each with the
answer decided by hand (tests/data/reference_corpus.json).

Each entry is admitted as one container of a Deployment moving from namespace ``old`` (which holds the
entry's Services, ``headless`` ones without a cluster IP) to ``new`` (which holds none), with the
``downward`` variables set from the pod's namespace, and the entry's value must come out as ``expected``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonpatch
import pytest

from tests.memory import MemoryCluster
from tests.reviews import review
from webhook.core.mutation import admit_workload
from webhook.core.settings import Settings
from webhook.dev import seed

CORPUS = Path(__file__).parent / "data" / "reference_corpus.json"
ENTRIES: list[dict[str, Any]] = json.loads(CORPUS.read_text())


def _ids() -> list[str]:
    """The source of each entry, numbered where one source gives several entries."""
    seen: dict[str, int] = {}
    ids = []
    for entry in ENTRIES:
        base = f"{entry['source']}:{entry['container']}:{entry.get('name') or entry['kind']}"
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return ids


def admitted(entry: dict[str, Any]) -> Any:
    """The entry's value after admission of a Deployment that carries it."""
    container: dict[str, Any] = {"name": entry["container"] or "app", "image": seed.IMAGE}
    env: list[dict[str, Any]] = [
        {"name": name, "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}
        for name in entry.get("downward", ())
    ]
    env += [{"name": name, "value": value} for name, value in entry["siblings"].items() if name != entry.get("name")]
    if entry["kind"] == "env":
        env.append({"name": entry["name"], "value": entry["value"]})
    else:
        container[entry["kind"]] = list(entry["value"])
    container["env"] = env
    obj = seed.deployment("app", "new", {})
    obj["spec"]["template"]["spec"]["containers"] = [container]
    cluster = MemoryCluster.of(
        seed.namespace("old", {"nsmigrate.io/source": "true"}),
        seed.namespace("new", {"nsmigrate.io/migrate-from": "old"}),
        *(service(name, headless=name in entry.get("headless", ())) for name in entry["services"]),
    )
    result = admit_workload(review(obj)["request"], cluster, Settings())
    after = jsonpatch.apply_patch(obj, list(result.response.patch))["spec"]["template"]["spec"]["containers"][0]
    if entry["kind"] == "env":
        return after["env"][-1]["value"]
    return after[entry["kind"]]


def service(name: str, *, headless: bool) -> dict[str, Any]:
    """A Service of the old namespace; ``headless`` ones have no cluster IP (their pods have DNS names)."""
    manifest = seed.service(name, "old", name)
    if headless:
        manifest["spec"]["clusterIP"] = "None"
    return manifest


@pytest.mark.parametrize("entry", [pytest.param(entry, id=id_) for entry, id_ in zip(ENTRIES, _ids(), strict=True)])
def test_corpus_entry_comes_out_as_decided_by_hand(entry: dict[str, Any]) -> None:
    assert admitted(entry) == entry["expected"], entry["note"]
