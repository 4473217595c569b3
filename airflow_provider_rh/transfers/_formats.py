"""Record encoders: NDJSON (gzip when the name ends in ``.gz``) and Parquet in row groups.

An encoder writes to a stream page by page and keeps at most one row group's JSON lines
(Parquet) or one page's lines (NDJSON) in memory, however many pages come. The lines come from
:func:`~airflow_provider_rh.core.jsonl.json_lines`: the bytes the server sent, lined when the
pager checked the page for repeats, or encoded here for records from elsewhere. Neither format
turns a record into a Python object.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import gzip
import io
from collections.abc import Sequence
from typing import Any, Protocol

from airflow_provider_rh.core.jsonl import json_lines, page_of
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
    """Parquet via pyarrow, one row group per ``row_group_size`` records, read from the JSON lines.

    Arrow reads the records' JSON lines itself (``pyarrow.json``), so no record becomes a
    Python object. The first row group decides the columns and their types, inferred by Arrow:
    ``int64``, ``double`` (a column holding both integers and fractions in that group), ``bool``,
    ``string`` (strings stay strings, even ones that look like dates), ``struct`` for objects,
    ``list`` for arrays, ``null`` for a column that is null throughout the group. Later row groups
    are read with that schema: an integer in a ``double`` column widens, a missing field is null.
    Anything else that does not fit (a field first seen after the first group, ``5.5`` in an
    ``int64`` column, a record that is not an object) fails with a ConfigurationError naming the
    page and the field: a value is never truncated or dropped.
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
        self._lines: list[bytes] = []
        self._pages: list[int | None] = []  # the page of each chunk in _lines
        self._count = 0
        self._first_pages = ""
        self._writer: Any = None
        self._schema: Any = None
        # Row groups are read and written by one thread of their own, in order, while the pull
        # goes on fetching the next pages: Arrow releases the GIL, so the two overlap. At most
        # one row group is in flight (memory: two groups' lines); its error surfaces at the next
        # flush or at close, so the pull still fails before anything lands.
        self._encoding: concurrent.futures.ThreadPoolExecutor | None = None
        self._pending: concurrent.futures.Future[None] | None = None

    def write(self, records: Sequence[Any]) -> None:
        page = page_of(records)
        start = 0
        while start < len(records):
            room = self._row_group_size - self._count
            part = records if start == 0 and len(records) <= room else records[start : start + room]
            self._lines.append(json_lines(part))
            self._pages.append(page)
            self._count += len(part)
            start += len(part)
            if self._count >= self._row_group_size:
                self._flush()

    def close(self) -> None:
        try:
            self._wait()
            if self._count or self._writer is None:
                chunks, pages = self._take()
                self._encode(chunks, pages)
            self._writer.close()
        finally:
            self._stop()

    def abort(self) -> None:
        self._lines, self._pages, self._count = [], [], 0
        with contextlib.suppress(Exception):  # the output is being thrown away, errors too
            self._wait()
        self._stop()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            with contextlib.suppress(Exception):  # the file is being deleted; its footer does not matter
                writer.close()

    def _take(self) -> tuple[list[bytes], list[int | None]]:
        chunks, pages = self._lines, self._pages
        self._lines, self._pages, self._count = [], [], 0
        return chunks, pages

    def _flush(self) -> None:
        chunks, pages = self._take()
        self._wait()
        if self._encoding is None:
            self._encoding = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="rh-parquet")
        self._pending = self._encoding.submit(self._encode, chunks, pages)

    def _wait(self) -> None:
        """Let the row group in flight finish; raise what it raised."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _stop(self) -> None:
        if self._encoding is not None:
            self._encoding.shutdown(wait=True)
            self._encoding = None

    def _encode(self, chunks: list[bytes], pages: list[int | None]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        data = b"".join(chunks)
        if self._writer is None:
            table = _read_lines(data, None) if data else pa.table({})
            if table is None:
                raise self._misfit(chunks, pages) or self._generic(pages)
            if table.num_rows and not table.num_columns:
                raise ConfigurationError(
                    f"The records of {_page_range(pages)} have no fields, so Parquet has no column to "
                    f"store them in. {_ADVICE}",
                    field="format",
                )
            self._schema = table.schema
            self._first_pages = _page_range(pages)
            self._writer = pq.ParquetWriter(self._stream, table.schema)
        else:
            table = _read_lines(data, self._schema)
            if table is None:
                # Nothing to lose if the only strangers are fields that are null throughout.
                table = _read_lines(data, self._schema, ignore_new=True)
                misfit = self._misfit(chunks, pages)
                if table is None or misfit is not None:
                    raise misfit or self._generic(pages)
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))

    def _misfit(self, chunks: list[bytes], pages: list[int | None]) -> ConfigurationError | None:
        """Which page and field do not fit, in words, with what to do (None: only null fields)."""
        import pyarrow as pa

        advice = _ADVICE
        seen: dict[str, tuple[Any, str]] = {}
        for chunk, page in zip(chunks, pages, strict=True):
            where = f"page {page}" if page is not None else "a record batch"
            if self._schema is not None and _read_lines(chunk, self._schema) is not None:
                continue  # this page fits; another one does not
            own = _read_lines(chunk, None)
            if own is None:
                return ConfigurationError(
                    f"Parquet cannot hold the records of {where}: each record must be a JSON object "
                    "(one row) whose fields keep one JSON type. Land this endpoint as format='ndjson'.",
                    field="format",
                )
            if self._schema is None:  # the first row group: do its pages agree with each other?
                for field in own.schema:
                    earlier = seen.setdefault(field.name, (field.type, where))
                    if not (_fits(field.type, earlier[0]) or _fits(earlier[0], field.type)):
                        return ConfigurationError(
                            f"Field {field.name!r} is {earlier[0]} on {earlier[1]} but {field.type} on "
                            f"{where}; a Parquet column holds one type. Land this endpoint as "
                            "format='ndjson'.",
                            field="format",
                        )
                    if _fits(earlier[0], field.type):
                        seen[field.name] = (field.type, where)
                continue
            for field in own.schema:
                if field.name not in self._schema.names and pa.types.is_null(field.type):
                    continue  # null throughout: nothing is lost without it
                if field.name not in self._schema.names:
                    return ConfigurationError(
                        f"Field {field.name!r} first appears on {where}, after the first row group "
                        f"({self._first_pages}) fixed the Parquet columns, so it cannot be stored. {advice}",
                        field="format",
                    )
                known = self._schema.field(field.name).type
                if not _fits(field.type, known):
                    return ConfigurationError(
                        f"Field {field.name!r} is {known} in the first row group ({self._first_pages}) but "
                        f"{field.type} on {where}; storing it would truncate or drop values. {advice}",
                        field="format",
                    )
        return None

    def _generic(self, pages: list[int | None]) -> ConfigurationError:
        first = f" of the first row group ({self._first_pages})" if self._first_pages else ""
        return ConfigurationError(
            f"The records of {_page_range(pages)} do not fit one Parquet schema{first}. {_ADVICE}",
            field="format",
        )


_ADVICE = (
    "A Parquet file has one schema, fixed by its first row group; raise parquet_row_group_size so "
    "the first group shows every column's type, or land this endpoint as format='ndjson'."
)


def _read_lines(data: bytes, schema: Any, *, ignore_new: bool = False) -> Any:
    """The table Arrow reads from JSON ``data`` (one object a line), or None if it cannot.

    Without ``schema`` the types are inferred, strings kept as strings (Arrow would turn
    date-like ones into timestamps, dropping their zone).
    """
    import pyarrow as pa
    import pyarrow.json as pj

    # One block for inference (blocks inferred apart may disagree); with a schema, 1 MiB blocks
    # read faster, unless a record is longer than that. One thread: the pull's own threads and
    # the encoder share the cores, and Arrow's pool costs more CPU than it saves here.
    whole = pj.ReadOptions(block_size=min(len(data) + 1, 2**31 - 1), use_threads=False)
    read = pj.ReadOptions(block_size=1 << 20, use_threads=False) if len(data) > 1 << 20 else whole
    try:
        if schema is not None:
            unexpected = "ignore" if ignore_new else "error"
            options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior=unexpected)
            try:
                return pj.read_json(io.BytesIO(data), read_options=read, parse_options=options)
            except pa.ArrowInvalid:
                if read is whole:
                    raise
                return pj.read_json(io.BytesIO(data), read_options=whole, parse_options=options)
        read = whole
        table = pj.read_json(io.BytesIO(data), read_options=read)
        strings = pa.schema([field.with_type(_no_timestamps(field.type)) for field in table.schema])
        if strings.equals(table.schema):
            return table
        options = pj.ParseOptions(explicit_schema=strings, unexpected_field_behavior="error")
        return pj.read_json(io.BytesIO(data), read_options=read, parse_options=options)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, UnicodeError):
        return None


def _no_timestamps(kind: Any) -> Any:
    """``kind`` with every timestamp (inferred from a string) a string again."""
    import pyarrow as pa

    if pa.types.is_timestamp(kind):
        return pa.string()
    if pa.types.is_struct(kind):
        return pa.struct(
            [kind.field(i).with_type(_no_timestamps(kind.field(i).type)) for i in range(kind.num_fields)]
        )
    if pa.types.is_list(kind):
        return pa.list_(kind.value_field.with_type(_no_timestamps(kind.value_type)))
    return kind


def _fits(found: Any, known: Any) -> bool:
    """Whether values typed ``found`` fit a column of type ``known`` without loss."""
    import pyarrow as pa

    if found == known or pa.types.is_null(found):
        return True
    if pa.types.is_integer(found):
        return bool(pa.types.is_floating(known))
    if pa.types.is_struct(found) and pa.types.is_struct(known):
        names = {known.field(i).name: known.field(i).type for i in range(known.num_fields)}
        return all(
            found.field(i).name in names and _fits(found.field(i).type, names[found.field(i).name])
            for i in range(found.num_fields)
        )
    if pa.types.is_list(found) and pa.types.is_list(known):
        return _fits(found.value_type, known.value_type)
    return False


def _page_range(pages: list[int | None]) -> str:
    numbers = [page for page in pages if page is not None]
    if not numbers:
        return "the first records"
    first, last = min(numbers), max(numbers)
    return f"page {first}" if first == last else f"pages {first}-{last}"


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
