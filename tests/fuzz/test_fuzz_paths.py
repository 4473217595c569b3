"""Property tests of records paths: any page, any path -> found or not, never an exception, in
work bounded by the page's size times the path's, and a path built from a page finds its value."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh.pagination import _paths
from airflow_provider_rh.pagination._paths import lookup
from tests.fuzz._work import lines_run

pytestmark = pytest.mark.fuzz

KEYS = st.sampled_from(["a", "b", "a.b", "a.a", "0", "1", "-1", "@odata.nextLink", "items", ""])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=30,
)
paths = st.one_of(
    st.lists(KEYS, max_size=6).map(".".join),
    st.lists(KEYS, max_size=6),
    st.none(),
)


def nodes(document: Any) -> list[Any]:
    found, todo = [], [document]
    while todo:  # bounded: every node is visited once
        node = todo.pop()
        found.append(node)
        if isinstance(node, dict):
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return found


@given(json_values, paths)
@example({"a": {"a": {"a": 1}}, "a.a": {"a": 2}}, "a.a.a")
def test_any_page_and_path_give_a_node_of_the_page_or_nothing(document, path):
    lines, result = lines_run(_paths, lambda: lookup(document, path))
    assert isinstance(result, tuple), result
    found, value = result
    if found:
        assert any(value is node for node in nodes(document))
    else:
        assert value is None
    segments = len(path) if isinstance(path, list) else len((path or "").split("."))
    # Every (node, segment) pair is tried at most once, each trying at most `segments` keys.
    assert lines <= 40 * (len(nodes(document)) + 1) * (segments + 1) ** 2


@given(st.lists(st.text(alphabet="abcxyz@_", min_size=1, max_size=5), min_size=1, max_size=8), json_values)
def test_a_path_of_plain_keys_finds_what_was_put_there(keys, leaf):
    document: Any = leaf
    for key in reversed(keys):
        document = {key: document}
    assert lookup(document, ".".join(keys)) == (True, leaf)
    assert lookup(document, keys) == (True, leaf)
