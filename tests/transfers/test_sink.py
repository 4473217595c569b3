"""Writing records atomically, in parts, in each format: the Airflow-free side of the transfer.

Runs on fsspec's local filesystem in a temporary folder; the same code lands on S3 in
``test_s3.py``.
"""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fsspec.implementations.local import LocalFileSystem

from airflow_provider_rh.exceptions import ConfigurationError
from airflow_provider_rh.sandbox.data import units
from airflow_provider_rh.transfers._formats import normalize_format
from airflow_provider_rh.transfers._lineage import api_dataset, storage_dataset
from airflow_provider_rh.transfers._progress import Progress, PullSummary, human_bytes
from airflow_provider_rh.transfers._sink import RecordSink, TryIdentity, part_path, split_suffix

from .support import hidden_files, read_ndjson, visible_files

FS = LocalFileSystem()
RECORDS = list(units(25))


def sink(path: Path, **kwargs: Any) -> RecordSink:
    kwargs.setdefault("fmt", "ndjson")
    return RecordSink(FS, str(path), **kwargs)


def land(path: Path, pages: list[list[Any]], **kwargs: Any) -> list[str]:
    out = sink(path, **kwargs)
    for page in pages:
        out.write(page)
    return out.commit()


def pages_of(records: list[Any], size: int) -> list[list[Any]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("units.ndjson.gz", ("units", ".ndjson.gz")),
        ("units.jsonl", ("units", ".jsonl")),
        ("units.parquet", ("units", ".parquet")),
        ("units.v2.ndjson", ("units.v2", ".ndjson")),
        ("units.gz", ("units", ".gz")),
        ("units", ("units", "")),
        (".hidden", (".hidden", "")),
    ],
)
def test_suffixes(name: str, expected: tuple[str, str]) -> None:
    assert split_suffix(name) == expected


def test_part_names_are_deterministic() -> None:
    assert part_path("lake/units/units.ndjson.gz", 0) == "lake/units/units-00000.ndjson.gz"
    assert part_path("lake/units/units.parquet", 12) == "lake/units/units-00012.parquet"


def test_records_land_only_on_commit_via_a_hidden_temporary(tmp_path: Path) -> None:
    final = tmp_path / "deep" / "folder" / "units.ndjson.gz"
    out = sink(final)
    out.write(RECORDS[:10])
    [temp] = out.temporaries
    assert Path(temp).parent == final.parent
    assert Path(temp).name.startswith(".units.ndjson.gz.")
    assert Path(temp).name.endswith(".tmp")
    assert not final.exists()
    out.write(RECORDS[10:])
    assert out.commit() == [str(final)]
    assert read_ndjson(final) == RECORDS
    assert hidden_files(final.parent) == []
    assert out.bytes_written == final.stat().st_size


def test_abort_deletes_the_temporaries_and_keeps_what_was_there(tmp_path: Path) -> None:
    final = tmp_path / "units.ndjson"
    final.write_text("the previous run's complete file\n")
    out = sink(final, max_records_per_file=10)
    out.write(RECORDS)
    assert len(out.temporaries) == 3
    out.abort()
    assert final.read_text() == "the previous run's complete file\n"
    assert hidden_files(tmp_path) == []
    assert visible_files(tmp_path) == ["units.ndjson"]


def test_a_rerun_replaces_the_file_and_sweeps_temporaries_of_killed_tries(tmp_path: Path) -> None:
    final = tmp_path / "units.ndjson.gz"
    first_try = TryIdentity.of("dag", "run", "pull", -1, 1)
    land(final, [RECORDS], owner=first_try)
    killed = first_try.token()  # what try 1 named its temporaries before it was killed
    (tmp_path / f".units.ndjson.gz.{killed}.tmp").write_bytes(b"half a file from a killed try")
    (tmp_path / f".units-00001.ndjson.gz.{killed}.tmp").write_bytes(b"a part from a killed try")
    (tmp_path / f".other.ndjson.gz.{killed}.tmp").write_bytes(b"someone else's")
    old = tmp_path / ".units.ndjson.gz.0123abcd.tmp"  # an older version's name, untouched for days
    old.write_bytes(b"left by a try long dead")
    os.utime(old, (time.time() - 3 * 24 * 3600,) * 2)
    land(final, [RECORDS[:5]], owner=TryIdentity.of("dag", "run", "pull", -1, 2))
    assert read_ndjson(final) == RECORDS[:5]
    assert visible_files(tmp_path) == ["units.ndjson.gz"]
    assert hidden_files(tmp_path) == [f".other.ndjson.gz.{killed}.tmp"]


def test_gzip_output_is_the_same_bytes_every_run(tmp_path: Path) -> None:
    first, second = tmp_path / "a.ndjson.gz", tmp_path / "b.ndjson.gz"
    land(first, [RECORDS])
    land(second, pages_of(RECORDS, 7))
    assert first.read_bytes() == second.read_bytes()
    assert gzip.decompress(first.read_bytes()).decode().count("\n") == 25


def test_no_records_still_land_an_empty_file(tmp_path: Path) -> None:
    assert land(tmp_path / "units.ndjson.gz", []) == [str(tmp_path / "units.ndjson.gz")]
    assert gzip.decompress((tmp_path / "units.ndjson.gz").read_bytes()) == b""
    land(tmp_path / "parts.ndjson", [[]], max_records_per_file=5)
    assert visible_files(tmp_path) == ["parts-00000.ndjson", "units.ndjson.gz"]


def test_parts_split_pages_and_a_smaller_rerun_removes_stale_parts(tmp_path: Path) -> None:
    final = tmp_path / "units.ndjson.gz"
    paths = land(final, pages_of(RECORDS, 7), max_records_per_file=10)
    assert [Path(p).name for p in paths] == [
        "units-00000.ndjson.gz",
        "units-00001.ndjson.gz",
        "units-00002.ndjson.gz",
    ]
    assert [len(read_ndjson(Path(p))) for p in paths] == [10, 10, 5]
    assert [r for p in paths for r in read_ndjson(Path(p))] == RECORDS

    (tmp_path / "units-extra.ndjson.gz").write_bytes(b"not a part")
    (tmp_path / "units-000001.ndjson.gz").write_bytes(b"not a part either")
    land(final, [RECORDS[:12]], max_records_per_file=10)
    assert visible_files(tmp_path) == [
        "units-00000.ndjson.gz",
        "units-000001.ndjson.gz",
        "units-00001.ndjson.gz",
        "units-extra.ndjson.gz",
    ]
    assert read_ndjson(tmp_path / "units-00001.ndjson.gz") == RECORDS[10:12]


# -- destinations that cannot be a file -------------------------------------------------------
def test_an_existing_folder_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "units"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(ConfigurationError, match="is an existing folder") as info:
        sink(folder)
    assert info.value.field == "destination"
    assert "units.ndjson.gz" in str(info.value)  # what to write instead
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize("written", ["{dir}/units/", "{dir}/units/.", "{dir}/units/.."])
def test_a_name_that_means_a_folder_is_refused(tmp_path: Path, written: str) -> None:
    shown = "file://" + written.format(dir=tmp_path)
    path = written.format(dir=tmp_path).rstrip("/")
    with pytest.raises(ConfigurationError, match="names a folder, not a file") as info:
        RecordSink(FS, path, fmt="ndjson", destination=shown)
    assert info.value.field == "destination"
    assert shown in str(info.value)
    assert not (tmp_path / "units").exists()


def test_a_destination_below_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "lake").write_text("a file, not a folder")
    with pytest.raises(ConfigurationError, match="which is a file") as info:
        sink(tmp_path / "lake" / "units" / "units.ndjson.gz")
    assert info.value.field == "destination"
    assert str(tmp_path / "lake") in str(info.value)


def test_a_part_name_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "units-00000.ndjson.gz").mkdir()
    with pytest.raises(ConfigurationError, match="units-00000.ndjson.gz' is an existing folder"):
        sink(tmp_path / "units.ndjson.gz", max_records_per_file=10)


def test_a_folder_made_during_the_pull_is_refused_at_commit_and_nothing_moves(tmp_path: Path) -> None:
    out = sink(tmp_path / "units.ndjson.gz", max_records_per_file=10)
    out.write(RECORDS)  # three parts
    (tmp_path / "units-00002.ndjson.gz").mkdir()
    with pytest.raises(ConfigurationError, match="units-00002.ndjson.gz' is an existing folder"):
        out.commit()
    out.abort()
    assert visible_files(tmp_path) == ["units-00002.ndjson.gz"]  # parts 0 and 1 were not moved either
    assert hidden_files(tmp_path) == []
    assert list((tmp_path / "units-00002.ndjson.gz").iterdir()) == []


def test_parquet_lands_in_row_groups(tmp_path: Path) -> None:
    final = tmp_path / "units.parquet"
    land(final, pages_of(RECORDS, 4), fmt="parquet", row_group_size=10)
    parquet = pq.ParquetFile(final)
    assert parquet.metadata.num_row_groups == 3
    assert parquet.read().to_pylist() == RECORDS


def test_parquet_says_what_to_do_when_records_change_shape(tmp_path: Path) -> None:
    out = sink(tmp_path / "units.parquet", fmt="parquet", row_group_size=2)
    out.write([{"id": 1}, {"id": 2}])

    # Row groups are encoded beside the pull, so the refusal comes at the next write or at the
    # commit at the latest: before anything lands.
    def write_and_commit() -> None:
        out.write([{"id": "three"}, {"id": "four"}])
        out.commit()

    with pytest.raises(ConfigurationError, match="land this endpoint as format='ndjson'"):
        write_and_commit()
    out.abort()
    assert list(tmp_path.iterdir()) == []


def test_format_names() -> None:
    assert normalize_format("JSONL") == "ndjson"
    with pytest.raises(ConfigurationError, match="use one of ndjson, jsonl, parquet") as info:
        normalize_format("csv")
    assert info.value.field == "format"
    with pytest.raises(ConfigurationError, match="Parquet compresses inside the file"):
        RecordSink(FS, "x/units.parquet.gz", fmt="parquet")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_reports_at_most_once_an_interval() -> None:
    lines: list[str] = []
    clock = Clock()
    progress = Progress(report=lines.append, interval=5.0, clock=clock)
    for _ in range(4):
        clock.now += 2.0
        progress.page(100, 2048)
    assert lines == ["Pulled 3 pages, 300 records, 6.0 KiB so far in 6 s (50 records/s)."]
    assert (progress.pages, progress.records, progress.elapsed) == (4, 400, 8.0)


def test_summary_is_small_and_reads_well() -> None:
    summary = PullSummary(
        "s3://lake/u.ndjson.gz",
        ["s3://lake/u.ndjson.gz"],
        1200,
        12,
        3 * 1024**2,
        4.0,
        retries=3,
        token_requests=2,
    )
    assert summary.as_dict() == {
        "destination": "s3://lake/u.ndjson.gz",
        "paths": ["s3://lake/u.ndjson.gz"],
        "files": 1,
        "records": 1200,
        "pages": 12,
        "bytes": 3 * 1024**2,
        "duration_seconds": 4.0,
        "retries": 3,
        "token_requests": 2,
    }
    assert summary.line() == (
        "Landed 1200 records from 12 pages (3.0 MiB) in 4.0 s (300 records/s, 3 retries, 2 token "
        "requests): s3://lake/u.ndjson.gz"
    )
    assert human_bytes(999) == "999 B"


def test_lineage_names_follow_the_openlineage_conventions() -> None:
    assert api_dataset("https://api.example.se:8443/hsainfo/v1/", "/units?x=1") == (
        "https://api.example.se:8443",
        "/hsainfo/v1/units",
    )
    assert api_dataset("https://api.example.se/hsainfo/v1", "https://api.example.se/hsainfo/v1/u") == (
        "https://api.example.se",
        "/hsainfo/v1/u",
    )
    assert storage_dataset("s3://lake/hsainfo/units.ndjson.gz") == ("s3://lake", "hsainfo/units.ndjson.gz")
    assert storage_dataset("file:///tmp/x/units.parquet") == ("file", "/tmp/x/units.parquet")
