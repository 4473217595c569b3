"""The high-water mark against a model API, change by change: every version lands exactly once.

The model serves, for ``since=mark``, every record whose ``modified >= mark``, in any order;
changes stamp records with the latest time or the same time again (ties at the mark, and
records that change twice within one tick). A pull that would land nothing new lands nothing.
"""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh.incremental import Incremental, IncrementalError, Mark

#: A change: (ids to update, records to add, 0 = same stamp as the latest, 1 = one tick later).
CHANGE = st.tuples(st.lists(st.integers(1, 12), max_size=4), st.integers(0, 2), st.integers(0, 1))
STEP = st.one_of(st.just("pull"), CHANGE)


def serve(store: dict[int, dict[str, int]], since: int | None, seed: int) -> list[dict[str, int]]:
    found = [dict(r) for r in store.values() if since is None or r["modified"] >= since]
    random.Random(seed).shuffle(found)
    return found


@pytest.mark.fuzz
@given(st.lists(STEP, max_size=25), st.integers(0, 1000), st.booleans())
@example(steps=["pull", ([1], 0, 0), "pull"], seed=0, through_json=False)
@example(steps=["pull", ([1], 0, 1)], seed=113, through_json=False)
def test_every_version_lands_once_and_the_last_state_always_lands(
    steps: list[object], seed: int, through_json: bool
) -> None:
    spec = Incremental("modified", "since", key="id")
    store = {i: {"id": i, "modified": i, "version": 1} for i in range(1, 13)}
    previous: dict[str, object] | None = None
    landed: list[tuple[int, int]] = []
    for index, step in enumerate([*steps, "pull"]):
        if step == "pull":
            start, _ = spec.start(previous)
            tracker = spec.tracker(start)
            records = serve(store, None if start is None else start.value, seed + index)
            kept = tracker.filter(records)
            landed += [(r["id"], r["version"]) for r in (records if kept is None else kept)]
            mark = tracker.mark()
            previous = {"field": "modified", "mark": None if mark is None else mark.as_dict()}
            if through_json:  # as XCom stores it
                previous = json.loads(json.dumps(previous))
            continue
        ids, added, later = step  # type: ignore[misc]
        stamp = max(r["modified"] for r in store.values()) + later
        for i in ids:
            store[i] = {"id": i, "modified": stamp, "version": store[i]["version"] + 1}
        for _ in range(added):
            new = max(store) + 1
            store[new] = {"id": new, "modified": stamp, "version": 1}
    assert len(landed) == len(set(landed)), "a version landed twice"
    assert {(r["id"], r["version"]) for r in store.values()} <= set(landed), "the last state was missed"


def test_without_a_key_records_at_the_mark_are_dropped() -> None:
    spec = Incremental("seq", "after")
    start, source = spec.start({"field": "seq", "mark": {"value": 5, "keys": []}})
    assert (start, source) == (Mark(5), "previous run")
    tracker = spec.tracker(start)
    assert tracker.filter([{"seq": 5}, {"seq": 6}, {"seq": 4}]) == [{"seq": 6}]
    assert tracker.mark() == Mark(6)
    assert spec.rendered(start) == "5"


def test_records_that_cannot_be_placed_say_why() -> None:
    tracker = Incremental("modified", "since", key="id").tracker(Mark("2026-01-01T00:00:00Z"))
    with pytest.raises(IncrementalError, match="no 'modified'"):
        tracker.filter([{"id": 1}])
    with pytest.raises(IncrementalError, match="cannot be compared"):
        tracker.filter([{"id": 1, "modified": 5}])
    with pytest.raises(IncrementalError, match="no 'id'"):
        tracker.filter([{"modified": "2026-01-01T00:00:00Z"}])


def test_a_mark_of_another_field_is_not_used() -> None:
    spec = Incremental("modified", "since", initial="2026-01-01T00:00:00Z")
    start, source = spec.start({"field": "updated", "mark": {"value": "2027-01-01T00:00:00Z", "keys": []}})
    assert (start, source) == (Mark("2026-01-01T00:00:00Z"), "initial")
