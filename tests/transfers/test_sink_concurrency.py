"""Two runs, one destination (issue 14, class 4): each try's temporaries are its own.

A manual rerun while the scheduled run still pulls, or two mapped tasks rendering the same path,
write one destination at once. One run's clean-up must not delete the other's temporary (that
run failed with ``FileNotFoundError``), and the destination ends up holding exactly one run's
complete output: the last to move its file in wins. The runs are threads on real files, put in
step with events, never with sleeps.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.local import LocalFileSystem

from airflow_provider_rh.sandbox.data import units
from airflow_provider_rh.transfers._sink import STALE_AFTER, RecordSink, TryIdentity

from .support import hidden_files, read_ndjson, visible_files

FS = LocalFileSystem()
RECORDS = list(units(40))
SCHEDULED = TryIdentity.of("hsainfo", "scheduled__2026-01-01", "pull", -1, 1)
MANUAL = TryIdentity.of("hsainfo", "manual__2026-01-01", "pull", -1, 1)
WAIT = 60  # seconds an event may take before the test fails instead of hanging


class SecondRun(threading.Thread):
    """A pull that writes half its records, lets the other run finish, then finishes itself."""

    def __init__(self, fs: Any, path: str, records: list[Any], owner: TryIdentity, **kwargs: Any) -> None:
        super().__init__(daemon=True)
        self.sink = RecordSink(fs, path, fmt="ndjson", owner=owner, **kwargs)
        self.records = records
        self.half_written = threading.Event()
        self.go_on = threading.Event()
        self.landed: list[str] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.sink.write(self.records[: len(self.records) // 2])
            self.half_written.set()
            assert self.go_on.wait(WAIT)
            self.sink.write(self.records[len(self.records) // 2 :])
            self.landed = self.sink.commit()
        except BaseException as exc:
            self.error = exc
            self.sink.abort()


def first_run(fs: Any, path: str, records: list[Any], owner: TryIdentity, **kwargs: Any) -> list[str]:
    sink = RecordSink(fs, path, fmt="ndjson", owner=owner, **kwargs)
    sink.write(records)
    return sink.commit()


def test_a_run_finishing_first_leaves_the_other_runs_temporary_alone(tmp_path: Path) -> None:
    final = tmp_path / "units.ndjson"
    scheduled = SecondRun(FS, str(final), RECORDS, SCHEDULED)
    scheduled.start()
    assert scheduled.half_written.wait(WAIT)
    [their_temp] = scheduled.sink.temporaries

    first_run(FS, str(final), RECORDS[:3], MANUAL)  # the manual rerun lands and tidies up
    assert Path(their_temp).exists()
    assert read_ndjson(final) == RECORDS[:3]

    scheduled.go_on.set()
    scheduled.join(WAIT)
    assert scheduled.error is None
    assert scheduled.landed == [str(final)]
    assert read_ndjson(final) == RECORDS  # the last complete move wins, whole
    assert hidden_files(tmp_path) == []


def test_parts_of_two_runs_the_last_to_commit_wins_whole(tmp_path: Path) -> None:
    final = tmp_path / "units.ndjson"
    scheduled = SecondRun(FS, str(final), RECORDS, SCHEDULED, max_records_per_file=10)
    scheduled.start()
    assert scheduled.half_written.wait(WAIT)

    manual = first_run(FS, str(final), RECORDS[:25], MANUAL, max_records_per_file=10)
    assert len(manual) == 3

    scheduled.go_on.set()
    scheduled.join(WAIT)
    assert scheduled.error is None
    assert scheduled.landed is not None
    assert len(scheduled.landed) == 4
    assert visible_files(tmp_path) == [f"units-0000{i}.ndjson" for i in range(4)]
    landed = [record for i in range(4) for record in read_ndjson(tmp_path / f"units-0000{i}.ndjson")]
    assert landed == RECORDS
    assert hidden_files(tmp_path) == []


def test_mapped_tasks_rendering_one_path_each_land_a_whole_file(tmp_path: Path) -> None:
    final = tmp_path / "units.ndjson"
    mapped = [TryIdentity.of("hsainfo", "scheduled__2026-01-01", "pull", index, 1) for index in (0, 1)]
    other = SecondRun(FS, str(final), RECORDS[20:], mapped[1])
    other.start()
    assert other.half_written.wait(WAIT)
    first_run(FS, str(final), RECORDS[:20], mapped[0])
    other.go_on.set()
    other.join(WAIT)
    assert other.error is None
    assert read_ndjson(final) == RECORDS[20:]


def test_only_provably_stale_temporaries_are_removed(tmp_path: Path) -> None:
    final = tmp_path / "units.ndjson"
    now = time.time()
    earlier_try = TryIdentity.of("hsainfo", "scheduled__2026-01-01", "pull", -1, 1)
    this_try = TryIdentity.of("hsainfo", "scheduled__2026-01-01", "pull", -1, 2)
    names = {
        "earlier try of this task instance": f".units.ndjson.{earlier_try.token()}.tmp",
        "another run, fresh": f".units.ndjson.{MANUAL.token()}.tmp",
        "another run, a day old": f".units.ndjson.{MANUAL.token()}.tmp",
        "an older version's, fresh": ".units.ndjson.0123abcd.tmp",
        "an older version's, a day old": ".units.ndjson.4567cdef.tmp",
    }
    for what, name in names.items():
        (tmp_path / name).write_text(what)
        if "a day old" in what:
            old = now - STALE_AFTER.total_seconds() - 60
            os.utime(tmp_path / name, (old, old))
    first_run(FS, str(final), RECORDS, this_try, clock=lambda: now)
    assert sorted(hidden_files(tmp_path)) == sorted(
        [names["another run, fresh"], names["an older version's, fresh"]]
    )


def test_a_temporary_that_vanishes_during_clean_up_is_no_error(tmp_path: Path) -> None:
    """The other run moves its temporary between this run's listing and its delete."""
    final = tmp_path / "units.ndjson"
    stale = tmp_path / f".units.ndjson.{MANUAL.token()}.tmp"
    stale.write_text("stale")
    old = time.time() - STALE_AFTER.total_seconds() - 60
    os.utime(stale, (old, old))

    class Racing(LocalFileSystem):
        def rm(self, path: Any, *args: Any, **kwargs: Any) -> Any:
            if str(path) == str(stale) and stale.exists():
                stale.unlink()  # gone a moment before this run's delete
            return super().rm(path, *args, **kwargs)

    sink = RecordSink(Racing(skip_instance_cache=True), str(final), fmt="ndjson", owner=SCHEDULED)
    sink.write(RECORDS)
    assert sink.commit() == [str(final)]
    assert visible_files(tmp_path) == ["units.ndjson"]


def test_the_try_identity_comes_from_the_task_instance() -> None:
    class TI:
        dag_id, run_id, task_id, map_index, try_number = "d", "r", "t", 3, 2

    identity = TryIdentity.from_context({"ti": TI()})
    assert identity == TryIdentity.of("d", "r", "t", 3, 2)
    assert TryIdentity.from_context({}) is None
    assert identity is not None
    assert identity.token() != identity.token()


@pytest.mark.integration
def test_on_s3_clean_up_spares_the_other_runs_upload_and_reads_its_age(s3: Any) -> None:
    """On S3 a temporary appears when its upload is complete, moments before its move: that is
    when the other run's clean-up could take it."""
    from airflow.sdk import ObjectStoragePath

    target = ObjectStoragePath(f"s3://{s3.bucket}/units/units.ndjson", conn_id=s3.conn_id)
    theirs = f"units/.units.ndjson.{MANUAL.token()}.tmp"
    earlier = f"units/.units.ndjson.{TryIdentity.of('d', 'r', 't', -1, 1).token()}.tmp"
    for key in (theirs, earlier):
        s3.client.put_object(Bucket=s3.bucket, Key=key, Body=b"complete, about to be moved")

    first_run(target.fs, target.path, RECORDS, TryIdentity.of("d", "r", "t", -1, 2))
    assert s3.list_keys() == sorted([theirs, "units/units.ndjson"])
    assert read_ndjson(s3.read("units/units.ndjson")) == RECORDS

    a_day_later = time.time() + STALE_AFTER.total_seconds() + 60  # S3's LastModified says how old
    first_run(target.fs, target.path, RECORDS[:5], MANUAL, clock=lambda: a_day_later)
    assert s3.list_keys() == ["units/units.ndjson"]
