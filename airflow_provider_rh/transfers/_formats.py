"""Record encoders: NDJSON (gzip when the name ends in ``.gz``) and Parquet in row groups.

An encoder writes to a stream page by page and keeps at most one row group of records (Parquet)
or one page's encoding (NDJSON) in memory, however many pages come. NDJSON lines come from
:func:`~airflow_provider_rh.core.jsonl.json_lines`: encoded once, when the pager checked the
page for repeats, or here for records from elsewhere.
"""

from __future__ import annotations

import contextlib
import gzip
from collections.abc import Sequence
from typing import Any, Protocol

from airflow_provider_rh.core.jsonl import json_lines
from airflow_provider_rh.exceptions import ConfigurationError

#: Format names the operator accepts; ``jsonl`` is another name for ``ndjson``.
FORMATS = {"ndjson": "ndjson", "jsonl": "ndjson", "parquet": "parquet"}

#: Records per Parquet row group: big enough for good compression, small enough for flat memory.
DEFAULT_ROW_GROUP_SIZE = 10_000

#: gzip level for ``.gz`` NDJSON. 6 (zlib's own default) compresses these records about 14:1 at
#: twice the cost of level 1 (9:1); level 9 costs about four times level 6 for 10 % smaller files.
DEFAULT_GZIP_LEVEL = 6


def normalize_format(name: str) -> str:
    """The canonical format for ``name`` (``jsonl`` is ``ndjson``), or a ConfigurationError."""
    canonical = FORMATS.get(str(name).lower())
    if canonical is None:
        raise ConfigurationError(f"Unknown format {name!r}; use one of {', '.join(FORMATS)}.", field="format")
    return canonical


def check_destination_name(fmt: str, name: str) -> None:
    """Refuse a name that would mislead readers about the content, e.g. ``x.parquet.gz``."""
    if fmt == "parquet" and name.endswith(".gz"):
        raise ConfigurationError(
            f"Destination {name!r} ends in .gz, but Parquet compresses inside the file; name it "
            "e.g. units.parquet.",
            field="destination",
        )


class Writable(Protocol):
    """What an encoder writes to: the temporary object's stream."""

    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...


class RecordEncoder(Protocol):
    def write(self, records: Sequence[Any]) -> None: ...

    def close(self) -> None:
        """Finish the format (gzip trailer, Parquet footer); the stream itself stays open."""

    def abort(self) -> None:
        """Let go of the stream without finishing; the output is being thrown away."""


def check_gzip_level(level: Any) -> int:
    """``level`` if it is a gzip level (0-9), else a ConfigurationError naming ``gzip_level``."""
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 9:
        raise ConfigurationError(
            f"gzip_level must be an integer from 0 (store) to 9 (smallest), got {level!r}; "
            f"{DEFAULT_GZIP_LEVEL} is the usual balance of speed and size.",
            field="gzip_level",
        )
    return level


class NdjsonEncoder:
    """One compact JSON document per line, UTF-8; gzip with a fixed header so reruns are identical."""

    def __init__(self, stream: Writable, *, compress: bool, level: int = DEFAULT_GZIP_LEVEL) -> None:
        self._gzip = (
            gzip.GzipFile(filename="", fileobj=stream, mode="wb", mtime=0, compresslevel=level)
            if compress
            else None
        )
        self._out: Writable = self._gzip if self._gzip is not None else stream

    def write(self, records: Sequence[Any]) -> None:
        if records:
            self._out.write(json_lines(records))

    def close(self) -> None:
        if self._gzip is not None:
            self._gzip.close()

    def abort(self) -> None:
        # Finish while the stream is still open, so nothing is left to finalise on collection;
        # the file is being deleted, so a failure here does not matter.
        with contextlib.suppress(Exception):
            self.close()


class ParquetEncoder:
    """Parquet via pyarrow, one row group per ``row_group_size`` records.

    The schema comes from the first row group; later records must fit it (a column that is
    null throughout the first group cannot take values later, for example).
    """

    def __init__(self, stream: Writable, *, row_group_size: int = DEFAULT_ROW_GROUP_SIZE) -> None:
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise ConfigurationError(
                "format='parquet' needs pyarrow: pip install 'airflow-provider-rh[parquet]'.",
                field="format",
            ) from exc
        self._stream = stream
        self._row_group_size = row_group_size
        self._buffer: list[Any] = []
        self._writer: Any = None
        self._schema: Any = None

    def write(self, records: Sequence[Any]) -> None:
        self._buffer.extend(records)
        while len(self._buffer) >= self._row_group_size:
            batch = self._buffer[: self._row_group_size]
            del self._buffer[: self._row_group_size]
            self._flush(batch)

    def close(self) -> None:
        if self._buffer or self._writer is None:
            batch, self._buffer = self._buffer, []
            self._flush(batch)
        self._writer.close()

    def abort(self) -> None:
        self._buffer = []
        if self._writer is not None:
            writer, self._writer = self._writer, None
            with contextlib.suppress(Exception):  # the file is being deleted; its footer does not matter
                writer.close()

    def _flush(self, batch: list[Any]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pa.Table.from_pylist(batch, schema=self._schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ConfigurationError(
                f"A record does not fit the Parquet schema taken from the first row group ({exc}); "
                "land this endpoint as format='ndjson', or raise parquet_row_group_size so the first "
                "group shows every column's type.",
                field="format",
            ) from exc
        if self._writer is None:
            self._schema = table.schema
            self._writer = pq.ParquetWriter(self._stream, table.schema)
        self._writer.write_table(table)


def open_encoder(
    fmt: str,
    stream: Writable,
    *,
    name: str,
    row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
    gzip_level: int = DEFAULT_GZIP_LEVEL,
) -> RecordEncoder:
    """An encoder for ``fmt`` writing to ``stream``; ``name`` decides gzip for NDJSON."""
    if fmt == "parquet":
        return ParquetEncoder(stream, row_group_size=row_group_size)
    return NdjsonEncoder(stream, compress=name.endswith(".gz"), level=gzip_level)
