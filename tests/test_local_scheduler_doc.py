"""docs/local-scheduler.md's "Step by step" runs as written and lands what the page says.

The page's bash blocks are fed, one after the other, to one ``bash`` in a temporary folder, as a
user would paste them into one terminal: the same shell, so the background jobs and variables of
the first block are there for the next. The only adaptations: ``set -eum`` first (a failing step
stops the shell; job control, as in a terminal), the api-server's port ``8080`` replaced by a
free one, the sandbox's port given by ``RH_SANDBOX_PORT`` (the page leaves the default), and a
copy of ``dags_examples/`` in the folder; the test session's own ``AIRFLOW*`` and ``RH_*``
variables are left out of the shell's environment. Every listener is on 127.0.0.1. Every wait is
bounded; the page's stop line must end every process, and at the end the test ends any the shell
started (the process groups, then any descendant left).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import psutil
import pytest

from tests.transfers.support import read_ndjson, visible_files

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.integration,
    pytest.mark.scheduler,  # a real scheduler and api-server: `pytest -m scheduler`
    pytest.mark.timeout(1500),
]

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "local-scheduler.md"
DOC_PORT = "8080"
STEP = dt.timedelta(minutes=5)
PER_DAY = dt.timedelta(days=1) // STEP  # 288 records a day
# Upper bounds on a busy machine, never expectations of speed.
BLOCK_TIMEOUT = 420.0  # `airflow db migrate`, the connection test, reserialize
RUN_TIMEOUT = 420.0  # the components start and the runs finish
STOP_TIMEOUT = 90.0


def step_blocks() -> list[str]:
    """The bash blocks of the "Step by step" section, in order."""
    text = DOC.read_text()
    section = text[text.index("## Step by step") :]
    following = re.search(r"^## ", section[3:], re.MULTILINE)
    if following:
        section = section[: following.start() + 3]
    return re.findall(r"^```bash\n(.*?)^```$", section, re.DOTALL | re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def utc_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


class Terminal:
    """One ``bash`` reading commands from a pipe, its output in a log file."""

    def __init__(self, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            ["bash"],
            stdin=subprocess.PIPE,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,  # its own session; with `set -m` each background job is a group in it
        )
        self._marks = 0
        self._descendants: set[psutil.Process] = set()

    @property
    def stdin(self) -> IO[bytes]:
        assert self.proc.stdin is not None
        return self.proc.stdin

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def run(self, block: str, timeout: float) -> None:
        """Type ``block`` in and wait until its foreground commands are done."""
        self._marks += 1
        mark = f"-- block {self._marks} done --"
        self.stdin.write(f"{block}\necho '{mark}'\n".encode())
        self.stdin.flush()
        self.wait_until(f"block {self._marks} done", lambda: mark in self.output(), timeout)

    def wait_until(self, what: str, check: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.remember_descendants()
            if check():
                return
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"the shell exited ({self.proc.returncode}) before {what}\n{self.tail()}"
                )
            time.sleep(0.5)
        raise AssertionError(f"{what}: not within {timeout:.0f} s\n{self.tail()}")

    def tail(self) -> str:
        return self.output()[-6000:]

    def remember_descendants(self) -> None:
        with contextlib.suppress(psutil.Error):
            self._descendants.update(psutil.Process(self.proc.pid).children(recursive=True))

    def alive_descendants(self) -> list[psutil.Process]:
        alive = []
        for proc in self._descendants:
            with contextlib.suppress(psutil.Error):
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
        return alive

    def workers_idle(self) -> bool:
        """The scheduler's workers all wait for work (process title ``... <idle>``), running none."""
        workers = 0
        for proc in self.alive_descendants():
            with contextlib.suppress(psutil.Error):
                title = " ".join(proc.cmdline())
                if title.startswith("airflow worker"):
                    workers += 1
                    if "<idle>" not in title or proc.children():
                        return False
        return workers > 0

    def kill(self) -> None:
        """SIGTERM to the shell's group and every descendant seen (the jobs' groups too), SIGKILL
        after a grace period."""
        self.remember_descendants()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)
            for proc in self.alive_descendants():
                with contextlib.suppress(psutil.Error):
                    proc.send_signal(sig)
            _, alive = psutil.wait_procs(self.alive_descendants(), timeout=15)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
            if not alive and self.proc.poll() is not None:
                break
        self._out.close()


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    shutil.copytree(
        ROOT / "dags_examples", tmp_path / "dags_examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = {
        key: value
        for key, value in os.environ.items()
        # The test session's own Airflow settings (AIRFLOW_HOME, its database) stay out.
        if not key.startswith(("AIRFLOW", "RH_", "_AIRFLOW"))
    }
    env["PATH"] = (
        f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # airflow, rh-sandbox, python3
    )
    env["RH_SANDBOX_PORT"] = str(free_port())
    env.setdefault("NO_PROXY", "127.0.0.1,localhost")
    env.setdefault("no_proxy", "127.0.0.1,localhost")
    term = Terminal(tmp_path, env, tmp_path / "terminal.log")
    # -m: job control as in an interactive terminal: each `&` job is a process group of its own
    # and `kill %N` signals all of it (the scheduler and its executor's workers), not only its
    # first process (without it the scheduler waits for ever for workers that never got a signal).
    term.stdin.write(b"set -eum\n")
    try:
        yield term
    finally:
        term.kill()


def daily_runs(db: Path) -> list[tuple[str, str]]:
    """``(run_type, state)`` of ``hsainfo_units_daily``'s runs, by logical date."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            query = "SELECT run_type, state FROM dag_run WHERE dag_id = ? ORDER BY logical_date"
            return [tuple(row) for row in conn.execute(query, ("hsainfo_units_daily",))]
    except sqlite3.OperationalError:  # locked by a writer for longer than 5 s: look again
        return []


def day_file(start: dt.date) -> str:
    end = start + dt.timedelta(days=1)
    return f"units-{start:%Y%m%d}T000000-{end:%Y%m%d}T000000.ndjson.gz"


def stamps(day: dt.date) -> list[str]:
    """``updated`` of every record in ``[day, day + 1)``: one each 5 minutes from midnight."""
    midnight = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
    return [f"{midnight + k * STEP:%Y-%m-%dT%H:%M:%SZ}" for k in range(PER_DAY)]


def test_the_step_by_step_lands_yesterday_then_a_bounded_backfill(terminal: Terminal, tmp_path: Path) -> None:
    start_block, backfill_block, stop_block = step_blocks()
    assert "rh-sandbox" in start_block
    assert "airflow backfill create" in backfill_block
    for setting in (
        f"AIRFLOW__API__PORT={DOC_PORT}\n",
        f"AIRFLOW__API__BASE_URL=http://127.0.0.1:{DOC_PORT}\n",
        f"AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:{DOC_PORT}/execution/\n",
        "AIRFLOW__API__HOST=127.0.0.1 ",
    ):
        assert setting in start_block, setting
    api_port = str(free_port())
    start_block = start_block.replace(DOC_PORT, api_port)
    assert DOC_PORT not in start_block + backfill_block + stop_block

    landing = tmp_path / ".airflow-local" / "landing" / "hsainfo" / "units_daily"
    db = tmp_path / ".airflow-local" / "airflow.db"

    days_before = utc_today()
    terminal.run(start_block, BLOCK_TIMEOUT)
    assert "Connection success!" in terminal.output()

    def scheduled_run_done() -> bool:
        return [state for _, state in daily_runs(db)] in (["success"], ["failed"])

    terminal.wait_until("the first daily run finished", scheduled_run_done, RUN_TIMEOUT)
    assert daily_runs(db) == [("scheduled", "success")], terminal.tail()
    # The run is for the latest midnight when the scheduler started: yesterday, seen at some
    # moment of the block (a midnight may fall in between on a slow day).
    [scheduled] = visible_files(landing)
    yesterday = next(
        (
            day
            for day in {days_before - dt.timedelta(days=1), utc_today() - dt.timedelta(days=1)}
            if day_file(day) == scheduled
        ),
        None,
    )
    assert yesterday is not None, f"{scheduled} is not yesterday's file"
    records = read_ndjson(landing / scheduled)
    assert [r["updated"] for r in records] == stamps(yesterday)  # the whole day: 288 records
    assert [r["id"] for r in records] == list(range(records[0]["id"], records[0]["id"] + PER_DAY))

    days_before = utc_today()
    terminal.run(backfill_block, BLOCK_TIMEOUT)

    def backfill_done() -> bool:
        runs = daily_runs(db)
        return len(runs) == 4 and all(state in ("success", "failed") for _, state in runs)

    terminal.wait_until("the three backfill runs finished", backfill_done, RUN_TIMEOUT)
    assert daily_runs(db) == [("backfill", "success")] * 3 + [("scheduled", "success")], terminal.tail()
    # --from-date 7 days ago --to-date 5 days ago: runs at those midnights, each pulling the day
    # before its own.
    candidates = {
        today: [day_file(today - dt.timedelta(days=n)) for n in (8, 7, 6)]
        for today in {days_before, utc_today()}
    }
    backfilled = sorted(set(visible_files(landing)) - {scheduled})
    assert backfilled in candidates.values(), backfilled
    today = next(today for today, files in candidates.items() if files == backfilled)
    landed_ids: list[int] = [r["id"] for r in records]
    for n, name in zip((8, 7, 6), backfilled, strict=True):
        day_records = read_ndjson(landing / name)
        assert [r["updated"] for r in day_records] == stamps(today - dt.timedelta(days=n)), name
        landed_ids += [r["id"] for r in day_records]
    assert len(landed_ids) == len(set(landed_ids)) == 4 * PER_DAY  # no record twice

    # "once no task is running": every LocalExecutor worker back to <idle>, no task process
    terminal.wait_until("the scheduler idle", terminal.workers_idle, RUN_TIMEOUT)
    terminal.run(stop_block + "\nwait", STOP_TIMEOUT)  # the page's stop line ends every job
    terminal.wait_until(
        "every process the blocks started ended", lambda: not terminal.alive_descendants(), STOP_TIMEOUT
    )
