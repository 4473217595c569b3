"""The window arithmetic with plain datetimes: no Airflow, no server."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_rh.exceptions import ConfigurationError, WindowError
from airflow_provider_rh.windows import TimeWindow, Window, compute_window, format_time, interval_references

UTC = dt.timezone.utc
#: ``JAN[2]`` is 2026-01-02 00:00 UTC (``JAN[0]`` the last day of 2025).
JAN = [dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(days=day - 1) for day in range(10)]


def test_an_interval_with_length_is_the_window_whatever_came_before() -> None:
    window = compute_window(
        interval_start=JAN[2], interval_end=JAN[3], previous_end=JAN[1], previous_fire=JAN[1], initial=JAN[1]
    )
    assert window == Window(JAN[2], JAN[3], "data interval")


def test_an_empty_interval_follows_on_from_the_previous_run() -> None:
    window = compute_window(interval_start=JAN[5], interval_end=JAN[5], previous_end=JAN[3], initial=JAN[1])
    assert (window.start, window.end, window.source) == (JAN[3], JAN[5], "previous run")


def test_a_first_empty_interval_starts_at_initial_else_at_the_previous_fire_time() -> None:
    first = compute_window(interval_start=JAN[2], interval_end=JAN[2], previous_fire=JAN[1], initial=JAN[0])
    assert (first.start, first.source) == (JAN[0], "initial")
    fired = compute_window(interval_start=JAN[2], interval_end=JAN[2], previous_fire=JAN[1])
    assert (fired.start, fired.end, fired.source) == (JAN[1], JAN[2], "previous fire time")


def test_no_start_at_all_says_to_give_initial() -> None:
    with pytest.raises(WindowError, match=r"initial=datetime") as info:
        compute_window(interval_start=JAN[2], interval_end=JAN[2])
    assert info.value.field == "initial"
    assert isinstance(info.value, ConfigurationError)


def test_consecutive_runs_partition_time_with_skipped_and_failed_days() -> None:
    """Runs on Jan 2, 3 and 5 (Jan 4 skipped or failed): [Jan 1, Jan 5) in three pieces."""
    windows, previous_end = [], None
    for day in (2, 3, 5):
        window = compute_window(
            interval_start=JAN[day],
            interval_end=JAN[day],
            previous_end=previous_end,
            previous_fire=JAN[day - 1],
        )
        windows.append((window.start, window.end))
        previous_end = window.end  # the run succeeded: its data_interval_end
    assert windows == [(JAN[1], JAN[2]), (JAN[2], JAN[3]), (JAN[3], JAN[5])]


def test_lookback_moves_only_the_query_start() -> None:
    window = compute_window(
        interval_start=JAN[3], interval_end=JAN[3], previous_end=JAN[2], lookback=dt.timedelta(hours=2)
    )
    assert (window.start, window.end) == (JAN[2], JAN[3])
    assert window.query_start == JAN[2] - dt.timedelta(hours=2)
    assert window.as_dict() == {
        "start": "2026-01-02T00:00:00Z",
        "end": "2026-01-03T00:00:00Z",
        "query_start": "2026-01-01T22:00:00Z",
        "source": "previous run",
        "lookback_seconds": 7200.0,
    }


def test_an_earlier_run_that_ended_later_leaves_an_empty_window() -> None:
    window = compute_window(interval_start=JAN[3], interval_end=JAN[3], previous_end=JAN[4])
    assert (window.start, window.end, window.empty) == (JAN[3], JAN[3], True)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"interval_start": JAN[3], "interval_end": JAN[2]}, "data_interval"),
        ({"interval_start": dt.datetime(2026, 1, 2), "interval_end": JAN[2]}, "interval_start"),
        ({"interval_start": JAN[2], "interval_end": JAN[2], "lookback": -dt.timedelta(1)}, "lookback"),
    ],
)
def test_impossible_inputs_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(WindowError) as info:
        compute_window(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_the_query_formats_both_ends_in_utc() -> None:
    stockholm = dt.timezone(dt.timedelta(hours=1))
    window = Window(dt.datetime(2026, 1, 2, 1, 0, 30, 999_999, tzinfo=stockholm), JAN[3], "previous run")
    assert TimeWindow("since", "until").query(window) == {
        "since": "2026-01-02T00:00:30Z",  # to the second, like the API; both runs floor the same edge
        "until": "2026-01-03T00:00:00Z",
    }
    assert TimeWindow("from", "to", format="%Y%m%d").query(window) == {"from": "20260102", "to": "20260103"}
    epoch = TimeWindow("from", "to", format=lambda moment: str(int(moment.timestamp())))
    assert epoch.query(window)["to"] == "1767398400"
    assert format_time(JAN[1]) == "2026-01-01T00:00:00Z"


def test_time_window_computes_with_its_initial_and_lookback() -> None:
    window = TimeWindow("s", "u", initial=JAN[1], lookback=dt.timedelta(minutes=5))
    run = window.compute(interval_start=JAN[4], interval_end=JAN[4], previous_fire=JAN[3])
    assert (run.start, run.source, run.lookback) == (JAN[1], "initial", dt.timedelta(minutes=5))
    assert window.query(run) == {"s": "2025-12-31T23:55:00Z", "u": "2026-01-04T00:00:00Z"}
    assert repr(window) == (
        "TimeWindow('s', 'u', initial=datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), "
        "lookback=datetime.timedelta(seconds=300))"
    )


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("", "u"), {}, "since_param must be a non-empty"),
        (("s", "s"), {}, "must differ"),
        (("s", "u"), {"initial": dt.datetime(2026, 1, 1)}, "initial must be timezone-aware"),
        (("s", "u"), {"lookback": dt.timedelta(-1)}, "lookback must not be negative"),
        (("s", "u"), {"format": "iso"}, "format must be a strftime pattern"),
    ],
)
def test_bad_time_window_arguments_fail_when_the_dag_is_parsed(
    args: tuple[str, str], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(WindowError, match=message):
        TimeWindow(*args, **kwargs)  # type: ignore[arg-type]


def test_interval_references_find_the_trap_and_nothing_else() -> None:
    fields = {
        "path": "/units?since={{ dag_run.data_interval_start | ts }}",
        "query_params": {
            "updatedSince": "{{ data_interval_start | ts }}",
            "updatedBefore": "{{ data_interval_end.isoformat() }}",
            "from": "{{ prev_data_interval_end_success | ts }}",  # the right thing on an empty interval
            "day": "{{ ds }}",
            "literal": "data_interval_start",  # not a template
            "nested": [{"x": "{% if data_interval_end %}1{% endif %}"}],
        },
    }
    assert interval_references(fields) == [
        ("path", "data_interval_start"),
        ("query_params['updatedSince']", "data_interval_start"),
        ("query_params['updatedBefore']", "data_interval_end"),
        ("query_params['nested'][0]['x']", "data_interval_end"),
    ]
    assert interval_references({"query_params": {"day": "{{ ds }}"}, "path": "/units"}) == []
