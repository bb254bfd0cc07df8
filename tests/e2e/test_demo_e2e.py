"""The demo, as a newcomer runs it (`make demo`), on an environment of its own: every step happens,
including the handover held by foo's default-deny policy and released by the allow-callers label."""

from __future__ import annotations

from pathlib import Path

import pytest

from webhook.dev import demo

pytestmark = pytest.mark.e2e


def test_the_demo_walks_the_whole_migration(tmp_path: Path) -> None:
    said: list[str] = []
    demo.run(workdir=tmp_path, say=said.append)
    text = "\n".join(said)
    for expected in (
        "networkpolicy foo/default-deny created",
        "the handover waits",
        "keeps its selector {'app': 'appa'}: the old pods still serve appc",
        "NetworkPolicyBlocksCallers   service foobar/servicea   yes",
        "networkpolicy foo/nsmigrate-callers (managed by nsmigrate) admits",
        "(unchanged), no selector",
        "denied the request: proxy foobar/servicea still has callers",
        "networkpolicy foo/nsmigrate-callers removed with the last proxy of foo",
        "every name resolved at every step",
    ):
        assert expected in text, f"the demo did not say {expected!r}:\n{text}"
    assert "NOT RESOLVED" not in text
    assert "networkpolicy foo/nsmigrate-callers   no" not in text  # nsmigrate's own policy is no finding
