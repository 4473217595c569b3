"""Read a competitor's output back: NDJSON (plain or gzip), Parquet, or dlt's folder of jsonl."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from bench.data import checksum


def records(path: Path) -> Iterator[Any]:
    """Every record in ``path`` (a file, or a folder dlt wrote), without dlt's own columns."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.jsonl*") if "_dlt_" not in p.name and p.is_file())
        files = [
            p for p in files if p.parent.name not in ("_dlt_loads", "_dlt_version", "_dlt_pipeline_state")
        ]
        for item in files:
            for record in _ndjson(item):
                yield {k: v for k, v in record.items() if not k.startswith("_dlt_")}
        return
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
            yield from batch.to_pylist()
        return
    yield from _ndjson(path)


def _ndjson(path: Path) -> Iterator[Any]:
    decoder = msgspec.json.Decoder()
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as fh:
        for line in fh:
            if line.strip():
                yield decoder.decode(line)


def check(path: Path) -> tuple[int, int]:
    """``(records, checksum)`` of what landed at ``path``."""
    return checksum(records(path))
