"""A try killed with SIGKILL mid-pull leaves nothing at the final path; the rerun lands it once.

The pull runs in its own process against a sandbox that delays every page, so the kill lands
while pages are still coming in; nothing in the killed process gets a chance to clean up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.sandbox import Faults, Sandbox
from airflow_provider_rh.sandbox.data import units
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

from .support import UNIT_COUNT, hidden_files, read_ndjson, start_sandbox, use_sandbox, visible_files

pytestmark = pytest.mark.integration

PULL = """
import sys
from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

RegionHallandApiToStorageOperator(
    task_id="pull_units",
    path="/units",
    query_params={"limit": 5},
    records_path="items",
    pagination=NextLinkPagination("next"),
    destination=sys.argv[1],
).execute({})
"""


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox answering every page after 40 ms: 50 pages of 5 take two seconds at least."""
    sb = start_sandbox(tmp_path_factory.mktemp("slow"), faults=Faults(latency_ms=40))
    try:
        yield sb
    finally:
        sb.stop()


def wait_for(condition: Callable[[], object], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def test_a_killed_try_leaves_nothing_and_the_rerun_lands_everything_once(
    slow: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_sandbox(slow, monkeypatch)
    landing = tmp_path / "hsainfo" / "units"
    final = landing / "units.ndjson.gz"
    proc = subprocess.Popen(
        [sys.executable, "-c", PULL, final.as_uri()],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: landing.exists() and hidden_files(landing))
        already = slow.stats.api_requests_total
        wait_for(lambda: slow.stats.api_requests_total >= already + 5)  # well into the pull
        assert proc.poll() is None, "the pull finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    assert slow.stats.api_requests_total < 50  # it was killed mid-pull
    assert visible_files(landing) == []  # no final file, not even a partial one
    [leftover] = hidden_files(landing)
    assert leftover.startswith(".units.ndjson.gz.")

    summary = RegionHallandApiToStorageOperator(
        task_id="pull_units",
        path="/units",
        query_params={"limit": 50},
        records_path="items",
        pagination=NextLinkPagination("next"),
        destination=final.as_uri(),
    ).execute({})
    assert read_ndjson(final) == list(units(UNIT_COUNT))  # every record, each exactly once
    assert summary["records"] == UNIT_COUNT
    assert visible_files(landing) == ["units.ndjson.gz"]
    assert hidden_files(landing) == []  # the killed try's temporary is swept away
