"""The localized diff: applying it always yields the target, and it stays minimal where it matters."""

import copy
from typing import Any

import jsonpatch
from hypothesis import given
from hypothesis import strategies as st

from webhook.core.patch import diff

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text("ab/~", max_size=3),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text("ab/~", max_size=3), children, max_size=4)
    ),
    max_leaves=25,
)


@given(before=JSON, after=JSON)
def test_applying_the_diff_yields_the_target(before: Any, after: Any) -> None:
    assert jsonpatch.apply_patch(copy.deepcopy(before), diff(before, after)) == after


@given(document=JSON)
def test_equal_documents_have_an_empty_diff(document: Any) -> None:
    assert diff(document, copy.deepcopy(document)) == []


def test_a_changed_env_value_is_one_replace() -> None:
    before = {"spec": {"env": [{"name": f"V{n}", "value": str(n)} for n in range(50)]}}
    after = copy.deepcopy(before)
    after["spec"]["env"][7]["value"] = "changed"
    assert diff(before, after) == [{"op": "replace", "path": "/spec/env/7/value", "value": "changed"}]


def test_an_added_annotation_is_one_add_and_keys_are_escaped() -> None:
    before = {"metadata": {"annotations": {"a/b": "1"}}}
    after = {"metadata": {"annotations": {"a/b": "2", "x~y": "3"}}}
    ops = diff(before, after)
    assert {"op": "add", "path": "/metadata/annotations/x~0y", "value": "3"} in ops
    assert {"op": "replace", "path": "/metadata/annotations/a~1b", "value": "2"} in ops
