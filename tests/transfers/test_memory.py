"""Memory stays flat however many pages come: 20 000 records in 200 pages, measured by tracemalloc.

A correctness check of streaming, not a benchmark: holding the result (or even a tenth of it)
anywhere would push the peak far above the bound.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.sandbox.data import units
from airflow_provider_rh.sandbox.server import parse_connection_env_line
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

pytestmark = pytest.mark.integration

RECORDS = 20_000


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``rh-sandbox`` with 20 000 units in its own process, so only the pull is traced (and fast).

    Yields the connection JSON it prints once it serves.
    """
    state = tmp_path_factory.mktemp("big")
    command = [sys.executable, "-m", "airflow_provider_rh.sandbox", "--port", "0", "--state-dir", str(state)]
    command += ["--unit-count", str(RECORDS), "--no-access-log"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        connection = None
        for line in proc.stdout:
            connection = parse_connection_env_line(line)
            if connection is not None or time.monotonic() > deadline:
                break
        assert connection is not None, "rh-sandbox did not print its connection"
        yield json.dumps(connection)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def pull(until: str, destination: Path) -> tuple[dict[str, object], int]:
    """Pull the records updated before ``until``; the summary and the peak of traced memory."""
    op = RegionHallandApiToStorageOperator(
        task_id="pull_units",
        path="/units",
        query_params={"limit": 100, "updatedBefore": until},
        records_path="items",
        pagination=NextLinkPagination("next"),
        destination=destination.as_uri(),
        # No progress lines: whether one falls into a run depends on the machine's speed, and
        # the first one costs the logging machinery's memory.
        progress_interval=3600,
    )
    tracemalloc.start()
    try:
        summary = op.execute({})
        return summary, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_stays_far_below_the_data_size(
    big: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", big)
    SHARED_TOKEN_CACHE.clear()
    final = tmp_path / "units.ndjson.gz"
    pull("2026-01-01T01:00:00Z", final)  # first use imports modules and reads the connection
    small_summary, small_peak = pull("2026-01-07T22:40:00Z", final)  # 2 000 records, 20 pages
    summary, peak = pull("2027-01-01T00:00:00Z", final)

    assert small_summary["pages"] == 20
    assert summary["pages"] == RECORDS // 100
    assert summary["records"] == RECORDS
    data_size = sum(len(json.dumps(record, ensure_ascii=False)) for record in units(RECORDS))
    # Flat: ten times the pages may not cost much more memory than a tenth of them.
    assert peak < 2 * small_peak, f"peak {peak} bytes for 200 pages vs {small_peak} for 20"
    # And far below holding the records (parsed, several times their JSON size).
    assert peak < data_size / 2, f"peak {peak} bytes for {data_size} bytes of records"
