"""The Airflow side of windows, without a database: timetables' fire times and the run's context.

Real Airflow timetables and operators; the context is a plain dict with a small stand-in for the
task instance's ``get_previous_dagrun``, to pin the overlapping-runs rule deterministically (the
scheduler test meets it only when runs happen to overlap).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_rh._windowing import (
    WindowFailure,
    previous_fire_time,
    previous_window_end,
    refuse_empty_interval,
    window_for_run,
)
from airflow_provider_rh.exceptions import WindowError
from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator
from airflow_provider_rh.windows import TimeWindow

UTC = dt.timezone.utc


def at(day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def timetable(schedule: Any) -> Any:
    from airflow.sdk import DAG

    return DAG(dag_id="timetable_probe", schedule=schedule, start_date=at(1)).timetable


@pytest.mark.parametrize(
    ("schedule", "moment", "expected"),
    [
        ("@daily", at(2), at(1)),
        ("@daily", at(2, 10, 37), at(2)),  # a manual run between fire times
        (dt.timedelta(hours=6), at(2, 6), at(2)),
        (None, at(2), None),
    ],
)
def test_previous_fire_time_of_dag_schedules(schedule: Any, moment: dt.datetime, expected: Any) -> None:
    assert previous_fire_time(timetable(schedule), moment) == expected


def test_previous_fire_time_of_other_timetables() -> None:
    from airflow.sdk import CronTriggerTimetable, MultipleCronTriggerTimetable

    twice = MultipleCronTriggerTimetable("0 6 * * *", "0 18 * * *", timezone="UTC")
    assert previous_fire_time(twice, at(2, 6)) == at(1, 18)
    stockholm = CronTriggerTimetable("0 0 * * *", timezone="Europe/Stockholm")
    summer = dt.datetime(2026, 3, 29, 22, tzinfo=UTC)  # Mar 30 00:00 CEST
    assert previous_fire_time(stockholm, summer) == dt.datetime(2026, 3, 28, 23, tzinfo=UTC)


@dataclass
class Run:
    data_interval_end: dt.datetime


class PreviousRuns:
    """``ti.get_previous_dagrun(state=...)`` over a fixed set of earlier runs."""

    def __init__(self, **latest_by_state: Run) -> None:
        self.latest_by_state = latest_by_state

    def get_previous_dagrun(self, state: str | None = None) -> Run | None:
        return self.latest_by_state.get(state or "")


def context(moment: dt.datetime, *, success: dt.datetime | None = None, **runs: Run) -> dict[str, Any]:
    return {
        "data_interval_start": moment,
        "data_interval_end": moment,
        "prev_data_interval_end_success": success,
        "ti": PreviousRuns(**runs),
        "dag": type("Dag", (), {"timetable": timetable("@daily")})(),
    }


def test_an_earlier_run_still_running_covers_its_window() -> None:
    # Catchup: Jan 1 succeeded, Jan 2 and 3 are still running when Jan 4 starts.
    ctx = context(at(4), success=at(1), running=Run(at(3)), queued=Run(at(2)))
    assert previous_window_end(ctx) == at(3)  # type: ignore[arg-type]
    window = window_for_run(TimeWindow("s", "u"), ctx)  # type: ignore[arg-type]
    assert (window.start, window.end, window.source) == (at(3), at(4), "previous run")


def test_a_later_success_wins_over_an_older_run_in_flight() -> None:
    ctx = context(at(4), success=at(3), running=Run(at(1)))
    assert previous_window_end(ctx) == at(3)  # type: ignore[arg-type]


class MovingRun:
    """One earlier run that moves to its next state each time it is asked about (the worst case)."""

    def __init__(self, end: dt.datetime, states: list[str]) -> None:
        self.run, self.states, self.asked = Run(end), states, 0

    def get_previous_dagrun(self, state: str | None = None) -> Run | None:
        current = self.states[min(self.asked, len(self.states) - 1)]
        self.asked += 1
        return self.run if state == current else None


@pytest.mark.parametrize(
    "states",
    [
        ["queued", "running", "success"],
        ["running", "success"],
        ["running", "running", "success"],
        ["queued", "queued", "running"],
        ["success"],
    ],
)
def test_an_earlier_run_that_moves_on_while_asked_is_still_found(states: list[str]) -> None:
    # The context's success is from when the task started (Jan 3 was running then); Jan 3 then
    # moves through its states while this run asks. Seen under a real scheduler: Jan 5 pulled
    # Jan 3 to 5 again.
    ctx = context(at(5), success=at(2))
    ctx["ti"] = MovingRun(at(3), states)
    assert previous_window_end(ctx) == at(3)  # type: ignore[arg-type]


def test_without_earlier_runs_the_fire_time_or_initial_starts_the_window() -> None:
    assert window_for_run(TimeWindow("s", "u"), context(at(2))).start == at(1)  # type: ignore[arg-type]
    with_initial = TimeWindow("s", "u", initial=at(1) - dt.timedelta(days=30))
    assert window_for_run(with_initial, context(at(2))).source == "initial"  # type: ignore[arg-type]


def test_a_run_without_logical_date_fails_at_once_and_says_why() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(WindowFailure, match="no logical date") as info:
        window_for_run(TimeWindow("s", "u"), {})  # type: ignore[arg-type]
    assert isinstance(info.value, AirflowFailException)  # not retried
    assert isinstance(info.value, WindowError)


def test_a_manual_only_dag_without_initial_fails_and_says_how_to_fix() -> None:
    ctx = context(at(2))
    ctx["dag"] = type("Dag", (), {"timetable": timetable(None)})()
    with pytest.raises(WindowFailure, match=r"initial=datetime\(") as info:
        window_for_run(TimeWindow("s", "u"), ctx)  # type: ignore[arg-type]
    assert info.value.field == "initial"


def pull(**kwargs: Any) -> RegionHallandApiToStorageOperator:
    return RegionHallandApiToStorageOperator(
        task_id="pull",
        path=kwargs.pop("path", "/units"),
        destination="file:///tmp/x.ndjson",
        pagination=NextLinkPagination("next"),
        **kwargs,
    )


def test_the_trap_is_seen_in_the_path_too_and_only_on_an_empty_interval() -> None:
    task = pull(path="/units?updatedSince={{ data_interval_start | ts }}")
    with pytest.raises(WindowFailure, match=r"path reads data_interval_start"):
        refuse_empty_interval(task, context(at(2)))  # type: ignore[arg-type]
    real_interval = {"data_interval_start": at(1), "data_interval_end": at(2)}
    refuse_empty_interval(task, real_interval)  # type: ignore[arg-type]


def test_window_arguments_are_checked_when_the_dag_is_parsed() -> None:
    with pytest.raises(WindowError, match="query_params sets updatedSince") as info:
        pull(window=TimeWindow("updatedSince", "updatedBefore"), query_params={"updatedSince": "x"})
    assert info.value.field == "query_params"
    with pytest.raises(WindowError, match="window must be an airflow_provider_rh.windows.TimeWindow"):
        pull(window=("updatedSince", "updatedBefore"))
