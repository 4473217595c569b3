"""A try killed with SIGKILL never leaves a partial object at the final path; the rerun lands it once.

The pull runs in its own process (``kill_child.py``) that stops at a chosen point and says so
with a marker file: before the first page, mid-pull, or during the final move. The test kills
it there, so nothing in it gets a chance to clean up, and no sleep guesses when to kill.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.sandbox import Sandbox
from airflow_provider_rh.sandbox.data import units
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

from .kill_child import try_of_pull_units
from .support import UNIT_COUNT, hidden_files, read_ndjson, visible_files

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
ALL = list(units(UNIT_COUNT))
#: Upper safety bound for the child to reach its stopping point; normally a second or two.
REACH_TIMEOUT = 120.0


def kill_at(point: str, destination: Path, tmp_path: Path, *, per_file: int | None = None) -> None:
    """Run the pull in a child that stops at ``point``, and SIGKILL it there."""
    marker = tmp_path / f"reached-{point}"
    command = [sys.executable, "-m", "tests.transfers.kill_child", point, destination.as_uri(), str(marker)]
    command += [str(per_file)] if per_file else []
    with (tmp_path / "child.log").open("w") as log:
        proc = subprocess.Popen(command, cwd=REPO, env=os.environ.copy(), stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + REACH_TIMEOUT
        while not marker.exists():
            log_text = (tmp_path / "child.log").read_text()
            assert proc.poll() is None, f"the pull ended (code {proc.returncode}) before {point}:\n{log_text}"
            assert time.monotonic() < deadline, f"the pull never reached {point}:\n{log_text}"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def rerun(destination: Path, **kwargs: object) -> dict[str, object]:
    return RegionHallandApiToStorageOperator(
        task_id="pull_units",
        path="/units",
        query_params={"limit": 50},
        records_path="items",
        pagination=NextLinkPagination("next"),
        destination=destination.as_uri(),
        **kwargs,  # type: ignore[arg-type]
    ).execute({"ti": try_of_pull_units(2)})  # Airflow's retry of the killed try


@pytest.mark.parametrize(
    ("point", "temporaries"),
    [("first", 0), ("mid", 1), ("move", 1)],
    ids=["before_the_first_page", "mid_pull", "during_the_final_move"],
)
def test_a_killed_try_leaves_the_final_path_alone_and_the_rerun_lands_everything_once(
    sb: Sandbox, tmp_path: Path, point: str, temporaries: int
) -> None:
    landing = tmp_path / "hsainfo" / "units"
    landing.mkdir(parents=True)
    final = landing / "units.ndjson.gz"
    final.write_bytes(gzip.compress(b'{"id": 0, "from": "an earlier run"}\n'))
    earlier = final.read_bytes()

    kill_at(point, final, tmp_path)

    assert visible_files(landing) == ["units.ndjson.gz"]
    assert final.read_bytes() == earlier  # the earlier run's file, whole and untouched
    stale = hidden_files(landing)
    assert len(stale) == temporaries
    assert all(name.startswith(".units.ndjson.gz.") and name.endswith(".tmp") for name in stale)

    summary = rerun(final)
    assert read_ndjson(final) == ALL  # every record, each exactly once
    assert summary["records"] == UNIT_COUNT
    assert visible_files(landing) == ["units.ndjson.gz"]
    assert hidden_files(landing) == []  # the killed (earlier) try's temporary is swept away


def test_killed_between_two_parts_leaves_only_whole_parts_and_the_rerun_lands_them_once(
    sb: Sandbox, tmp_path: Path
) -> None:
    landing = tmp_path / "units"
    landing.mkdir()
    final = landing / "units.ndjson.gz"

    kill_at("move", final, tmp_path, per_file=100)  # three parts; killed after moving the first

    # The first part is in place and whole; the others are still hidden temporaries.
    assert visible_files(landing) == ["units-00000.ndjson.gz"]
    assert read_ndjson(landing / "units-00000.ndjson.gz") == ALL[:100]
    assert len(hidden_files(landing)) == 2

    rerun(final, max_records_per_file=100)
    assert visible_files(landing) == [f"units-0000{i}.ndjson.gz" for i in range(3)]
    assert [r for i in range(3) for r in read_ndjson(landing / f"units-0000{i}.ndjson.gz")] == ALL
    assert hidden_files(landing) == []
