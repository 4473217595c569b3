"""Windows under every Airflow 3 timetable, by a real Airflow (``dag.test()``, SQLite), against the sandbox.

Every run lands ``<window start>-<window end>.ndjson``; what landed is compared with the
sandbox's data (one record every 5 minutes from 2026-01-01), so "exactly once" is checked record
by record: runs partition time, skipped and failed days are covered by the next run, and the
trap (a query built from an empty data interval) fails before any request.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from airflow_provider_rh.sandbox import Sandbox
from airflow_provider_rh.sandbox.data import id_range

from .support import asset_event_extras, read_ndjson, start_sandbox, use_sandbox, visible_files, xcom

pytestmark = [pytest.mark.airflow, pytest.mark.integration]

DAGS = Path(__file__).parent / "window_dags"
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
UNITS = 30_000  # one every 5 minutes: 2026-01-01 to mid-April, past the DST change on March 29
UTC = dt.timezone.utc
STOCKHOLM = dt.timezone(dt.timedelta(hours=1))  # CET, before the change


def jan(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2026, 1, day, hour, tzinfo=UTC)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = start_sandbox(tmp_path_factory.mktemp("sandbox"), unit_count=UNITS)
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("landing")


@pytest.fixture(scope="module")
def dags(airflow_db: Path, landing: Path) -> Iterator[ModuleType]:
    """``window_dags/rh_windows.py``, parsed with its landing place, in a bundle ``dag.test()`` finds."""
    bundles = [
        {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
        {"name": "rh-window-tests", "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(DAGS)}},
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
        patch.setenv("RH_WINDOW_LANDING", str(landing))
        spec = importlib.util.spec_from_file_location("rh_windows", DAGS / "rh_windows.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


@pytest.fixture
def sb(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return use_sandbox(sandbox, monkeypatch)


def ids(start: dt.datetime, end: dt.datetime) -> list[int]:
    return list(id_range(UNITS, updated_since=start, updated_before=end))


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


def landed(folder: Path) -> dict[tuple[str, str], list[int]]:
    """``(start, end) -> ids`` of every window file in ``folder``."""
    files = {}
    for name in visible_files(folder):
        start, end = name.removesuffix(".ndjson").split("-")
        files[(start, end)] = [record["id"] for record in read_ndjson(folder / name)]
    return files


def run(dag: Any, logical_date: dt.datetime, **conf: Any) -> Any:
    return dag.test(logical_date=logical_date, run_conf=conf or None)


def test_daily_runs_partition_time_through_skipped_and_failed_days(
    dags: ModuleType, sb: Sandbox, landing: Path
) -> None:
    dag = dags.daily
    states = {}
    for day, conf in ((2, {}), (3, {}), (4, {"path": "/no-such-route"}), (6, {})):  # Jan 5: no run
        dag_run = run(dag, jan(day), **conf)
        assert (dag_run.data_interval_start, dag_run.data_interval_end) == (jan(day), jan(day))
        states[day] = dag_run.state
    assert states == {2: "success", 3: "success", 4: "failed", 6: "success"}

    files = landed(landing / "rh_win_daily")
    windows = [(jan(1), jan(2)), (jan(2), jan(3)), (jan(3), jan(6))]  # Jan 4 failed, Jan 5 skipped
    assert files == {(stamp(s), stamp(e)): ids(s, e) for s, e in windows}
    every = [i for records in files.values() for i in records]
    assert sorted(every) == ids(jan(1), jan(6)) == list(range(1, 5 * 288))  # each record once

    summary = xcom(dag_run, "pull")
    assert summary["window"] == {
        "start": "2026-01-03T00:00:00Z",
        "end": "2026-01-06T00:00:00Z",
        "query_start": "2026-01-03T00:00:00Z",
        "source": "previous run",
        "lookback_seconds": 0.0,
    }
    assert summary["records"] == 3 * 288
    extras = asset_event_extras(dags.asset("rh_win_daily").uri)
    assert [extra["window"]["start"] for extra in extras] == [
        "2026-01-01T00:00:00Z",
        "2026-01-02T00:00:00Z",
        "2026-01-03T00:00:00Z",
    ]

    # Rerunning Jan 3 pulls its own window again and replaces its file: idempotent.
    before = (landing / "rh_win_daily" / f"{stamp(jan(2))}-{stamp(jan(3))}.ndjson").read_bytes()
    assert run(dag, jan(3)).state == "success"
    assert landed(landing / "rh_win_daily") == files
    assert (landing / "rh_win_daily" / f"{stamp(jan(2))}-{stamp(jan(3))}.ndjson").read_bytes() == before


@pytest.mark.parametrize("name", ["trigger_interval", "data_interval", "delta"])
def test_timetables_with_intervals_pull_exactly_the_interval(
    dags: ModuleType, sb: Sandbox, landing: Path, name: str
) -> None:
    dag = getattr(dags, name)
    dag_run = run(dag, jan(3))
    assert dag_run.state == "success"
    start, end = dag_run.data_interval_start, dag_run.data_interval_end
    assert end - start == dt.timedelta(days=1)
    assert landed(landing / dag.dag_id) == {(stamp(start), stamp(end)): ids(start, end)}
    assert xcom(dag_run, "pull")["window"]["source"] == "data interval"


def test_a_manual_only_dag_starts_at_initial_then_follows_on(
    dags: ModuleType, sb: Sandbox, landing: Path
) -> None:
    for moment in (jan(2, 12), jan(3)):
        assert run(dags.manual, moment).state == "success"
    assert landed(landing / "rh_win_manual") == {
        (stamp(jan(1)), stamp(jan(2, 12))): ids(jan(1), jan(2, 12)),
        (stamp(jan(2, 12)), stamp(jan(3))): ids(jan(2, 12), jan(3)),
    }


def test_a_stockholm_schedule_follows_local_midnight_across_dst(
    dags: ModuleType, sb: Sandbox, landing: Path
) -> None:
    """Summer time starts on 2026-03-29 at 02:00 local: that day has 23 hours."""
    midnights = [
        dt.datetime(2026, 3, 28, 23, tzinfo=UTC),  # Mar 29 00:00 CET
        dt.datetime(2026, 3, 29, 22, tzinfo=UTC),  # Mar 30 00:00 CEST
        dt.datetime(2026, 3, 30, 22, tzinfo=UTC),  # Mar 31 00:00 CEST
    ]
    for moment in midnights:
        assert run(dags.stockholm, moment).state == "success"
    first = dt.datetime(2026, 3, 28, 0, tzinfo=STOCKHOLM)  # the fire time before the first run
    edges = [first, *midnights]
    files = landed(landing / "rh_win_stockholm")
    assert files == {(stamp(s), stamp(e)): ids(s, e) for s, e in itertools.pairwise(edges)}
    assert [len(records) for records in files.values()] == [24 * 12, 23 * 12, 24 * 12]


def test_lookback_rereads_the_margin_and_says_so(dags: ModuleType, sb: Sandbox, landing: Path) -> None:
    for day in (2, 3):
        dag_run = run(dags.lookback, jan(day))
        assert dag_run.state == "success"
    files = landed(landing / "rh_win_lookback")
    # Files are named by the window; the query starts an hour earlier.
    assert files == {
        (stamp(jan(1)), stamp(jan(2))): ids(jan(1) - dt.timedelta(hours=1), jan(2)),
        (stamp(jan(2)), stamp(jan(3))): ids(jan(1, 23), jan(3)),
    }
    assert xcom(dag_run, "pull")["window"]["query_start"] == "2026-01-01T23:00:00Z"


def test_the_trap_fails_before_any_request_and_lands_nothing(
    dags: ModuleType, sb: Sandbox, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    before = sb.stats.api_requests_total
    dag_run = run(dags.trap, jan(2))
    assert dag_run.state == "failed"
    (ti,) = dag_run.get_task_instances()
    assert (ti.state, ti.try_number) == ("failed", 1)  # retries=2, but retrying cannot help
    assert sb.stats.api_requests_total == before
    assert not (landing / "rh_win_trap").exists()
    logs = "".join(capsys.readouterr())
    for part in (
        "query_params['updatedSince'] reads data_interval_start",
        "data interval is empty: data_interval_start == data_interval_end == 2026-01-02T00:00:00Z",
        "window=TimeWindow(",
        "CronDataIntervalTimetable(",
        "allow_empty_interval=True",
    ):
        assert part in logs

    # Opting out runs the query as written, and shows why it is refused by default.
    assert run(dags.trap_allowed, jan(2)).state == "success"
    assert read_ndjson(landing / "rh_win_trap_allowed" / "2026-01-02.ndjson") == []


def test_mapped_tasks_the_api_operator_and_the_sensor_use_the_window(
    dags: ModuleType, sb: Sandbox, landing: Path
) -> None:
    dag_run = run(dags.more, jan(3))
    assert dag_run.state == "success"
    expected = ids(jan(2), jan(3))
    assert len(expected) == 288
    for name in ("next", "offset"):
        assert landed(landing / "rh_win_more" / name) == {(stamp(jan(2)), stamp(jan(3))): expected}
    assert xcom(dag_run, "pull_mapped", 1)["window"]["start"] == "2026-01-02T00:00:00Z"
    assert xcom(dag_run, "count") == 288
