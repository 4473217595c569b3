"""Catchup and backfill of a plain ``"@daily"`` DAG under a real scheduler: every record once.

A real ``airflow scheduler`` (LocalExecutor) and ``airflow api-server`` (the execution API the
task processes talk to) on the test session's SQLite database. Runs overlap (three at a time in
catchup, two in the backfill), which is where a window that followed only the previous
*successful* run would pull a span twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_rh.sandbox import Sandbox
from airflow_provider_rh.sandbox.data import id_range
from tests.conftest import AIRFLOW_BIN

from .support import read_ndjson, start_sandbox, visible_files

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.integration,
    pytest.mark.scheduler,  # its own CI step: `make test-scheduler`
    pytest.mark.filterwarnings("ignore:Could not import graphviz"),
]

DAGS = Path(__file__).parent / "scheduler_dags"
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
BUNDLE = "rh-window-scheduler-tests"
UNITS = 2_000  # one every 5 minutes from 2026-01-01: about a week
MAPPED_UNITS = 300
UTC = dt.timezone.utc
READY_TIMEOUT = 180.0  # an upper bound for starting the components on a busy machine
RUNS_TIMEOUT = 240.0
BACKFILL = (
    "backfill",
    "create",
    "--dag-id",
    "rh_win_backfill",
    "--from-date",
    "2026-01-02",
    "--to-date",
    "2026-01-04",
    "--max-active-runs",
    "2",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(what: str, check: Callable[[], bool], timeout: float, logs: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    tails = "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in sorted(logs.glob("*.log")))
    raise AssertionError(f"{what} not within {timeout:.0f} s\n{tails}")


def airflow_cli(*args: str) -> None:
    """``airflow ...`` through Airflow's own CLI parser, in this process (no interpreter start)."""
    from airflow.cli.cli_parser import get_parser

    parsed = get_parser().parse_args(list(args))
    parsed.func(parsed)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = start_sandbox(tmp_path_factory.mktemp("sandbox"), unit_count=UNITS)
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def mapped_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The second API host of ``rh_hwm_mapped`` (connection ``rh_mapped``): its own records."""
    sb = start_sandbox(tmp_path_factory.mktemp("mapped-sandbox"), unit_count=MAPPED_UNITS)
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def scheduler(
    airflow_db: Path, sandbox: Sandbox, mapped_sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scheduler]:
    """api-server + scheduler on the session's database."""
    landing = tmp_path_factory.mktemp("landing")
    logs = tmp_path_factory.mktemp("logs")
    port = free_port()
    bundles = [{"name": BUNDLE, "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(DAGS)}}]
    env = {
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",
        # SQLite and a shared 2-core machine make the execution API slow at times: wait, not fail.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        "AIRFLOW_CONN_REGIONHALLAND_DEFAULT": sandbox.connection_uri_env(),
        "AIRFLOW_CONN_RH_MAPPED": mapped_sandbox.connection_uri_env(),
        "RH_WINDOW_LANDING": str(landing),
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        # Everything this process writes is written before the components start: SQLite takes one
        # writer at a time. The DAGs go into the database (as a dag-processor would put them),
        # unpaused; the backfill's runs are created (`airflow backfill create`), two at a time.
        airflow_cli("dags", "reserialize", "--bundle-name", BUNDLE)
        for dag_id in ("rh_win_catchup", "rh_win_backfill", "rh_hwm_catchup", "rh_hwm_mapped"):
            airflow_cli("dags", "unpause", dag_id)
        airflow_cli(*BACKFILL)
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for component in ("api-server", "scheduler"):
                with (logs / f"{component}.log").open("wb") as out:
                    procs.append(
                        subprocess.Popen(
                            [AIRFLOW_BIN, component],
                            stdout=out,
                            stderr=subprocess.STDOUT,
                            env=os.environ.copy(),
                            start_new_session=True,
                        )
                    )

            def healthy() -> bool:
                if any(proc.poll() is not None for proc in procs):
                    raise AssertionError(f"an Airflow component exited; logs in {logs}")
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5).json()
                except (httpx.HTTPError, ValueError):
                    return False
                return bool(health.get("scheduler", {}).get("status") == "healthy")

            wait_until("api-server and scheduler healthy", healthy, READY_TIMEOUT, logs)
            yield Scheduler(landing=landing, logs=logs)
        finally:
            stop(procs)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to each component's process group (its workers too), SIGKILL after a grace period."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@dataclass
class Scheduler:
    landing: Path
    logs: Path


def runs(dag_id: str) -> list[Any]:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.logical_date)
        found = list(session.scalars(query))
        session.expunge_all()
        return found


def finished(dag_id: str, count: int) -> Callable[[], bool]:
    def check() -> bool:
        from sqlalchemy.exc import OperationalError

        try:
            states = [run.state for run in runs(dag_id)]
        except OperationalError:  # "database is locked" while a component writes: look again
            return False
        return len(states) == count and all(state in ("success", "failed") for state in states)

    return check


def day(n: int) -> dt.datetime:
    return dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(days=n - 1)


def landed(folder: Path) -> dict[str, list[int]]:
    return {name: [r["id"] for r in read_ndjson(folder / name)] for name in visible_files(folder)}


def name(start: dt.datetime, end: dt.datetime) -> str:
    return f"{start:%Y%m%dT%H%M%S}-{end:%Y%m%dT%H%M%S}.ndjson"


def ids(start: dt.datetime, end: dt.datetime) -> list[int]:
    return list(id_range(UNITS, updated_since=start, updated_before=end))


def test_catchup_with_overlapping_runs_lands_every_record_once(scheduler: Scheduler) -> None:
    wait_until("five catchup runs finished", finished("rh_win_catchup", 5), RUNS_TIMEOUT, scheduler.logs)
    assert [(run.logical_date, run.run_type, run.state) for run in runs("rh_win_catchup")] == [
        (day(n), "scheduled", "success") for n in range(1, 6)
    ]
    files = landed(scheduler.landing / "rh_win_catchup")
    edges = [day(0), *(day(n) for n in range(1, 6))]  # the first run starts at the fire time before it
    assert files == {name(s, e): ids(s, e) for s, e in itertools.pairwise(edges)}
    assert sorted(i for records in files.values() for i in records) == ids(day(1), day(5))


def test_airflow_backfill_lands_each_interval_once(scheduler: Scheduler) -> None:
    wait_until("three backfill runs finished", finished("rh_win_backfill", 3), RUNS_TIMEOUT, scheduler.logs)
    assert [(run.logical_date, run.run_type, run.state) for run in runs("rh_win_backfill")] == [
        (day(n), "backfill", "success") for n in (2, 3, 4)
    ]
    edges = [day(1), day(2), day(3), day(4)]
    files = landed(scheduler.landing / "rh_win_backfill")
    assert files == {name(s, e): ids(s, e) for s, e in itertools.pairwise(edges)}
    assert sorted(i for records in files.values() for i in records) == ids(day(1), day(4))


def changed(sb: Sandbox, ids: list[int]) -> list[tuple[int, int]]:
    """``(id, version)`` of ``ids`` as the sandbox holds them now."""
    versions = {r["id"]: r["version"] for r in sb.shapes.records()}
    return sorted((i, versions[i]) for i in ids)


def pulled(folder: Path, id_key: str = "id") -> dict[str, list[tuple[int, int]]]:
    version_key = "version" if id_key == "id" else "Version"
    return {
        name: sorted((r[id_key], r[version_key]) for r in read_ndjson(folder / name))
        for name in visible_files(folder)
    }


def test_a_high_water_mark_through_catchup_and_a_failed_run_lands_every_change_once(
    scheduler: Scheduler, sandbox: Sandbox
) -> None:
    """Day d changes records d and d + 10 and adds one (id UNITS + d); Jan 3's pull fails."""
    wait_until(
        "five high-water-mark runs finished", finished("rh_hwm_catchup", 5), RUNS_TIMEOUT, scheduler.logs
    )
    assert [(run.logical_date, run.state) for run in runs("rh_hwm_catchup")] == [
        (day(1), "success"),
        (day(2), "success"),
        (day(3), "failed"),
        (day(4), "success"),
        (day(5), "success"),
    ]
    files = pulled(scheduler.landing / "rh_hwm_catchup" / "search")
    assert sorted(files) == [
        "2026-01-01.ndjson",
        "2026-01-02.ndjson",
        "2026-01-04.ndjson",
        "2026-01-05.ndjson",
    ]
    assert files["2026-01-01.ndjson"][:3] == [(1, 2), (2, 1), (3, 1)]  # day 1's change, then everything
    assert len(files["2026-01-01.ndjson"]) == UNITS + 1
    assert files["2026-01-02.ndjson"] == changed(sandbox, [2, 12, UNITS + 2])
    # Jan 3 failed, so its mark never moved: Jan 4 lands Jan 3's changes and its own.
    assert files["2026-01-04.ndjson"] == changed(sandbox, [3, 4, 13, 14, UNITS + 3, UNITS + 4])
    assert files["2026-01-05.ndjson"] == changed(sandbox, [5, 15, UNITS + 5])
    every = [pair for name in sorted(files) for pair in files[name]]
    assert len(every) == len(set(every))  # no version of a record twice
    assert set(changed(sandbox, list(range(1, UNITS + 6)))) <= set(every)  # every latest version landed


def test_a_mapped_pull_keeps_one_mark_per_api_shape(scheduler: Scheduler, mapped_sandbox: Sandbox) -> None:
    wait_until("two mapped runs finished", finished("rh_hwm_mapped", 2), RUNS_TIMEOUT, scheduler.logs)
    assert [run.state for run in runs("rh_hwm_mapped")] == ["success", "success"]
    for api, id_key in (("search", "id"), ("odata", "Id")):
        files = pulled(scheduler.landing / "rh_hwm_mapped" / api, id_key)
        assert sorted(files) == ["2026-01-01.ndjson", "2026-01-02.ndjson"], api
        assert len(files["2026-01-01.ndjson"]) == MAPPED_UNITS + 1, api
        assert files["2026-01-02.ndjson"] == changed(mapped_sandbox, [2, 12, MAPPED_UNITS + 2]), api
