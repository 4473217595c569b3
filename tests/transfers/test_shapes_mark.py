"""The high-water mark against a model API, change by change: every version lands exactly once.

The model serves, for ``since=mark``, every record whose ``modified >= mark``, in any order;
changes stamp records with the latest time or the same time again (ties at the mark, and
records that change twice within one tick). A pull that would land nothing new lands nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh import incremental
from airflow_provider_rh.exceptions import ConfigurationError
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


def pulled(tracker: Any, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kept = tracker.filter(records)
    return records if kept is None else list(kept)


def test_times_compare_as_instants_not_as_text() -> None:
    # As text, "...10:00:00.7Z" < "...10:00:00Z" ('.' < 'Z'): a real change would be dropped.
    spec = Incremental("modified", "since", key="id")
    tracker = spec.tracker(Mark("2026-01-01T10:00:00Z"))
    records = [
        {"id": 1, "modified": "2026-01-01T10:00:00.7Z"},
        {"id": 2, "modified": "2026-01-01T11:30:00+01:00"},  # 10:30Z
        {"id": 3, "modified": "2026-01-01T10:30:00+02:00"},  # 08:30Z: older than the mark
        {"id": 4, "modified": "2026-01-01T10:20:00.1234567Z"},  # .NET's seven digits
        {"id": 5, "modified": "2026-01-01T10:20:00.1234568Z"},
    ]
    assert [r["id"] for r in pulled(tracker, records)] == [1, 2, 4, 5]
    assert (tracker.below, tracker.dropped) == (1, 0)
    # The mark keeps the API's own spelling of the latest instant.
    assert tracker.value == "2026-01-01T11:30:00+01:00"
    assert tracker.mark().value == "2026-01-01T11:30:00+01:00"


def test_the_same_instant_in_another_zone_is_at_the_mark() -> None:
    spec = Incremental("modified", "since", key="id")
    first = spec.tracker(None)
    record = {"id": 1, "modified": "2026-01-01T10:00:00Z"}
    pulled(first, [record])
    state = json.loads(json.dumps({"field": "modified", "mark": first.mark().as_dict()}))
    again = spec.tracker(spec.start(state)[0])
    # Served again in another zone's spelling but the same content: recognized as landed.
    same = {"id": 1, "modified": "2026-01-01T10:00:00Z"}
    moved = {"id": 2, "modified": "2026-01-01T12:00:00+02:00"}
    assert pulled(again, [same, moved]) == [moved]
    assert again.dropped == 1


def test_numbers_in_strings_compare_as_numbers() -> None:
    tracker = Incremental("version", "after").tracker(Mark("9"))
    assert [
        r["version"] for r in pulled(tracker, [{"version": "10"}, {"version": "9"}, {"version": "8.5"}])
    ] == ["10"]
    assert (tracker.dropped, tracker.below, tracker.value) == (1, 1, "10")


@pytest.mark.parametrize(
    ("mark", "value", "kinds"),
    [
        ("2026-01-01T10:00:00Z", "2026-01-01T10:00:00", ("local time (no zone)", "time with a zone")),
        ("2026-01-01T10:00:00Z", 5, ("number", "time with a zone")),
        ("7", "abc", ("text", "number")),
    ],
)
def test_values_of_different_kinds_stop_the_run_and_say_so(
    mark: Any, value: Any, kinds: tuple[str, str]
) -> None:
    tracker = Incremental("modified", "since", key="id").tracker(Mark(mark))
    record_kind, mark_kind = (re.escape(f"(a {kind})") for kind in kinds)
    with pytest.raises(IncrementalError, match=f"'modified' is .*{record_kind}.*{mark_kind}.*same kind"):
        tracker.filter([{"id": 1, "modified": value}])


def test_a_null_value_is_called_null_and_names_the_record() -> None:
    tracker = Incremental("modified", "since", key="id").tracker(None)
    with pytest.raises(IncrementalError, match=r"'modified' is null.*\('id' 7\)"):
        tracker.filter([{"id": 7, "modified": None}])


def test_mistakes_in_the_spec_fail_when_the_dag_is_parsed() -> None:
    with pytest.raises(ConfigurationError, match="placeholder other than") as caught:
        Incremental("Modified", "$filter", expression="Modified ge {mark} and Unit eq {unit}")
    assert caught.value.field == "expression"
    Incremental("Modified", "$filter", expression="{{literal}} ge {mark}")  # escaped braces are fine
    with pytest.raises(ConfigurationError, match="not a valid one") as caught:
        Incremental("modified", "since", initial="2026-02-30T00:00:00Z")
    assert caught.value.field == "initial"


def test_too_many_records_at_the_mark_degrade_to_duplicates_never_to_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(incremental, "MAX_MARK_KEYS", 3)
    spec = Incremental("modified", "since", key="id")
    tracker = spec.tracker(None)
    crowd = [{"id": i, "modified": 5} for i in range(5)]
    assert pulled(tracker, crowd) == crowd
    mark = tracker.mark()
    assert mark == Mark(5, (), overflow=True)
    state = json.loads(json.dumps({"field": "modified", "mark": mark.as_dict()}))
    again = spec.tracker(spec.start(state)[0])
    # Nothing is remembered at 5, so all of it lands again: duplicates, not a loss.
    assert pulled(again, [*crowd, {"id": 9, "modified": 6}]) == [*crowd, {"id": 9, "modified": 6}]
    assert again.mark() == Mark(6, ((9, again.mark().keys[0][1]),))
    assert len(again.landed_at_start) <= 3


def test_a_mark_of_another_request_is_not_used() -> None:
    spec = Incremental("modified", "since", initial="2026-01-01T00:00:00Z")
    state = {"field": "modified", "scope": "aaaa", "mark": {"value": "2027-01-01T00:00:00Z", "keys": []}}
    assert spec.start(state, "aaaa") == (Mark("2027-01-01T00:00:00Z"), "previous run")
    start, source = spec.start(state, "bbbb")
    assert start == Mark("2026-01-01T00:00:00Z")
    assert "different request" in source
    # A state written before scopes existed is still this task's.
    del state["scope"]
    assert spec.start(state, "bbbb")[1] == "previous run"


def instant_text(moment: dt.datetime, digits: int, zone_minutes: int, style: str) -> str:
    local = moment + dt.timedelta(minutes=zone_minutes)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{local.microsecond:06d}".ljust(digits, "0")[:digits]
    if zone_minutes == 0 and style == "Z":
        return text + "Z"
    sign = "-" if zone_minutes < 0 else "+"
    hours, minutes = divmod(abs(zone_minutes), 60)
    return text + (
        f"{sign}{hours:02d}:{minutes:02d}" if style != "compact" else f"{sign}{hours:02d}{minutes:02d}"
    )


INSTANTS = st.datetimes(dt.datetime(1970, 1, 2), dt.datetime(2200, 1, 1))


@pytest.mark.fuzz
@given(
    st.tuples(
        INSTANTS, st.integers(0, 9), st.integers(-14 * 60, 14 * 60), st.sampled_from(["Z", ":", "compact"])
    ),
    st.tuples(
        INSTANTS, st.integers(0, 9), st.integers(-14 * 60, 14 * 60), st.sampled_from(["Z", ":", "compact"])
    ),
)
def test_time_order_is_the_order_of_the_instants_in_any_spelling(
    a: tuple[Any, ...], b: tuple[Any, ...]
) -> None:
    def truncated(moment: dt.datetime, digits: int) -> dt.datetime:
        keep = 10 ** (6 - min(digits, 6))
        return moment.replace(microsecond=moment.microsecond // keep * keep)

    (ma, da, za, sa), (mb, db, zb, sb) = a, b
    left, right = instant_text(ma, da, za, sa), instant_text(mb, db, zb, sb)
    expected = (truncated(ma, da) > truncated(mb, db)) - (truncated(ma, da) < truncated(mb, db))
    ka, kb = incremental._order(left, "x"), incremental._order(right, "x")
    assert ka[0] == kb[0] == "time with a zone"
    assert (ka > kb) - (ka < kb) == expected, (left, right)


@pytest.mark.fuzz
@given(st.one_of(st.text(max_size=80), st.from_regex(r"\A[0-9+\-:TZ. ]{0,40}\Z")))
def test_any_value_is_placed_or_refused_clearly(value: str) -> None:
    try:
        kind, _ = incremental._order(value, "x")
    except IncrementalError as exc:
        message = str(exc)
    else:
        message = "not a valid one"
        assert kind in {"number", "text", "time with a zone", "local time (no zone)"}
    assert "not a valid one" in message
