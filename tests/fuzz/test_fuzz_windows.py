"""Property tests of the window arithmetic: consecutive windows tile time, across DST.

Runs fire on a real Airflow cron timetable in Europe/Stockholm (where a local day is 23 or 25
hours twice a year); manual runs fall anywhere between; any run may fail. Whatever the
sequence, the windows of the runs that succeeded follow on from each other: no gap, no overlap.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pendulum
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh._windowing import previous_fire_time
from airflow_provider_rh.exceptions import WindowError
from airflow_provider_rh.windows import TimeWindow, Window, format_time, interval_references

pytestmark = pytest.mark.fuzz

UTC = dt.timezone.utc
STOCKHOLM = "Europe/Stockholm"
#: Days around both DST switches of 2026 (Mar 29 and Oct 25 in Stockholm) and a plain stretch.
DAYS = st.sampled_from([dt.date(2026, 3, 24), dt.date(2026, 10, 20), dt.date(2026, 6, 1)])
CRONS = st.sampled_from(["0 0 * * *", "30 2 * * *", "0 */5 * * *", "15 1 * * 0"])


def _fires(cron: str, first_day: dt.date, count: int) -> list[dt.datetime]:
    from airflow.timetables.trigger import CronTriggerTimetable

    timetable = CronTriggerTimetable(cron, timezone=STOCKHOLM)
    moment = pendulum.datetime(first_day.year, first_day.month, first_day.day, tz=STOCKHOLM)
    fires = []
    for _ in range(count):
        moment = timetable._get_next(moment)
        fires.append(moment)
    return fires


@given(
    cron=CRONS,
    first_day=DAYS,
    runs=st.lists(
        st.tuples(st.booleans(), st.integers(min_value=0, max_value=3), st.booleans()),
        min_size=1,
        max_size=12,
    ),
    initial_hours=st.one_of(st.none(), st.integers(min_value=1, max_value=200)),
    lookback_minutes=st.integers(min_value=0, max_value=120),
)
@example(
    cron="30 2 * * *",
    first_day=dt.date(2026, 3, 24),
    runs=[(True, 0, False)] * 8,
    initial_hours=None,
    lookback_minutes=0,
)
def test_the_windows_of_successful_runs_tile_time(cron, first_day, runs, initial_hours, lookback_minutes):
    """Each run: (succeeds, manual runs before it, it is a data-interval run)."""
    from airflow.timetables.trigger import CronTriggerTimetable

    timetable = CronTriggerTimetable(cron, timezone=STOCKHOLM)
    fires = _fires(cron, first_day, len(runs))
    first = fires[0]
    initial = None if initial_hours is None else first - dt.timedelta(hours=initial_hours)
    window = TimeWindow("since", "until", initial=initial, lookback=dt.timedelta(minutes=lookback_minutes))
    previous_end: dt.datetime | None = None
    done: list[Window] = []
    moments: list[tuple[dt.datetime, bool, bool]] = []
    last = first - dt.timedelta(hours=1)
    for fire, (succeeds, manual, interval_run) in zip(fires, runs, strict=True):
        gap = fire - last
        for index in range(manual):  # manual runs strictly between the fires
            moments.append((last + gap * (index + 1) / (manual + 1), succeeds, False))
        moments.append((fire, succeeds, interval_run))
        last = fire
    first_good: dt.datetime | None = None
    for moment, succeeds, interval_run in moments:
        previous_fire = previous_fire_time(timetable, moment)
        if interval_run and previous_end is not None:
            # A data interval that starts where the last good run ended (CronDataIntervalTimetable).
            run = window.compute(interval_start=previous_end, interval_end=moment)
        else:
            run = window.compute(
                interval_start=moment,
                interval_end=moment,
                previous_end=previous_end,
                previous_fire=previous_fire,
            )
        assert run.end == moment
        assert run.start <= run.end
        assert run.query_start == run.start - window.lookback
        if succeeds:
            first_good = first_good or moment
            done.append(run)
            previous_end = max(previous_end or run.end, run.end)
    for before, after in itertools.pairwise(done):
        assert after.start == before.end, (before, after)  # no gap, no overlap
    if first_good is not None:
        # Before any success: initial, else the run's own previous fire time (a first run that
        # failed without initial is pulled again only when it is cleared; see docs/windows.md).
        expected_first = initial if initial is not None else previous_fire_time(timetable, first_good)
        assert done[0].start == min(expected_first, done[0].end)
        # The written query parameters are in UTC and order like the instants they stand for.
        written = [format_time(run.start) for run in done] + [format_time(done[-1].end)]
        assert written == sorted(written)


@given(
    start=st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    lookback=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3_000_000)),
    offset_hours=st.integers(min_value=-23, max_value=23),
)
@example(start=dt.datetime(1, 1, 2, tzinfo=UTC), lookback=dt.timedelta(days=5), offset_hours=0)
@example(start=dt.datetime(9999, 12, 31, 23, tzinfo=UTC), lookback=dt.timedelta(0), offset_hours=-5)
def test_any_initial_and_lookback_give_a_window_or_a_window_error(start, lookback, offset_hours):
    initial = start.replace(tzinfo=dt.timezone(dt.timedelta(hours=offset_hours)))
    try:
        window = TimeWindow("since", "until", initial=initial, lookback=lookback)
        run = window.compute(interval_start=initial, interval_end=initial)
        query = window.query(run)
    except WindowError as exc:
        field = exc.field
        assert field in ("lookback", "initial")
        return
    assert all(len(value) == 20 and value.endswith("Z") for value in query.values())
    assert query["since"] <= query["until"]


@given(st.text(alphabet="{}% _.abdeilnrstv[]'\"|", max_size=300))
@example("{{ ti.dag_run.data_interval_start }}")
@example("{{ prev_data_interval_start_success }}")
def test_the_trap_finds_exactly_the_interval_names_inside_blocks(text):
    found = interval_references({"path": text})
    assert set(found) <= {("path", "data_interval_start"), ("path", "data_interval_end")}
    # Outside any block the names mean nothing: removing every opener removes every finding.
    assert interval_references({"path": text.replace("{", "(")}) == []
