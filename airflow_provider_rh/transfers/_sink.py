"""Where the records go: one file, or one file per ``max_records_per_file`` with stable names.

Parts are named from the destination, ``units.ndjson.gz`` -> ``units-00000.ndjson.gz``,
``units-00001.ndjson.gz``, ..., so a rerun of the same interval writes the same names. All
parts are written to temporaries and moved into place together at the end; parts beyond the
new count, left by an earlier, larger run, are then deleted.
"""

from __future__ import annotations

import posixpath
import re
import uuid
from collections.abc import Sequence
from typing import Any

from airflow_provider_rh.transfers._formats import (
    DEFAULT_GZIP_LEVEL,
    DEFAULT_ROW_GROUP_SIZE,
    RecordEncoder,
    check_destination_name,
    open_encoder,
)
from airflow_provider_rh.transfers._writer import AtomicFile, glob_escape, remove_stale_temporaries

#: Digits in a part number: 100 000 parts is far more than any run should write.
PART_DIGITS = 5


def split_suffix(name: str) -> tuple[str, str]:
    """``("units", ".ndjson.gz")`` for ``units.ndjson.gz``: the format suffix plus a ``.gz``."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return name, ""
    if ext == "gz":
        inner_stem, inner_dot, inner_ext = stem.rpartition(".")
        if inner_dot and inner_stem:
            return inner_stem, f".{inner_ext}.gz"
    return stem, f".{ext}"


def part_path(path: str, index: int) -> str:
    """The path of part ``index`` of ``path``: ``.../units-00003.ndjson.gz``."""
    parent, name = posixpath.split(path)
    stem, suffix = split_suffix(name)
    return posixpath.join(parent, f"{stem}-{index:0{PART_DIGITS}d}{suffix}")


class RecordSink:
    """Streams records into ``path`` on ``fs`` (an fsspec filesystem), atomically.

    .. code-block:: python

        sink = RecordSink(fs, "lake/units/units.ndjson.gz", fmt="ndjson")
        try:
            for page in pages:
                sink.write(page.records)
            paths = sink.commit()
        except BaseException:
            sink.abort()
            raise
    """

    def __init__(
        self,
        fs: Any,
        path: str,
        *,
        fmt: str,
        max_records_per_file: int | None = None,
        row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
        gzip_level: int = DEFAULT_GZIP_LEVEL,
    ) -> None:
        check_destination_name(fmt, posixpath.basename(path))
        self.fs = fs
        self.path = path
        self.fmt = fmt
        self.max_records_per_file = max_records_per_file
        self.row_group_size = row_group_size
        self.gzip_level = gzip_level
        self.records = 0
        self._token = uuid.uuid4().hex
        self._done: list[AtomicFile] = []
        self._current: AtomicFile | None = None
        self._encoder: RecordEncoder | None = None
        self._in_current = 0

    @property
    def bytes_written(self) -> int:
        current = self._current.bytes_written if self._current is not None else 0
        return sum(f.bytes_written for f in self._done) + current

    @property
    def temporaries(self) -> list[str]:
        files = [*self._done, *([self._current] if self._current is not None else [])]
        return [f.temp for f in files]

    def write(self, records: Sequence[Any]) -> None:
        """Append ``records``, starting a new part whenever the current one is full."""
        if self._current is None:
            self._next_file()
        start = 0
        while start < len(records):
            if self._full():
                self._next_file()
            room = len(records) - start
            if self.max_records_per_file is not None:
                room = min(room, self.max_records_per_file - self._in_current)
            assert self._encoder is not None
            whole = start == 0 and room == len(records)  # keeps the pager's encoding with them
            self._encoder.write(records if whole else records[start : start + room])
            self._in_current += room
            self.records += room
            start += room

    def commit(self) -> list[str]:
        """Finish every file, move them all into place, then tidy up; returns the final paths."""
        if self._current is None:
            self._next_file()  # no records at all: still land an (empty) file for this interval
        self._finish_current()
        for item in self._done:
            item.close()
        for item in self._done:
            item.commit()
        landed = [item.path for item in self._done]
        self._remove_stale(landed)
        return landed

    def abort(self) -> None:
        """Delete every temporary written so far; the final paths were never touched."""
        if self._encoder is not None:
            self._encoder.abort()
            self._encoder = None
        if self._current is not None:
            self._done.append(self._current)
            self._current = None
        for item in self._done:
            item.discard()

    def _full(self) -> bool:
        return self.max_records_per_file is not None and self._in_current >= self.max_records_per_file

    def _next_file(self) -> None:
        self._finish_current()
        parted = self.max_records_per_file is not None
        path = part_path(self.path, len(self._done)) if parted else self.path
        self._current = AtomicFile(self.fs, path, token=self._token)
        stream = self._current.open()
        self._encoder = open_encoder(
            self.fmt,
            stream,
            name=posixpath.basename(path),
            row_group_size=self.row_group_size,
            gzip_level=self.gzip_level,
        )
        self._in_current = 0

    def _finish_current(self) -> None:
        if self._current is None:
            return
        assert self._encoder is not None
        self._encoder.close()
        self._current.close()
        self._done.append(self._current)
        self._current, self._encoder = None, None

    def _remove_stale(self, landed: list[str]) -> None:
        parent, name = posixpath.split(self.path)
        stem, suffix = split_suffix(name)
        remove_stale_temporaries(self.fs, self.path)
        parts = f"{glob_escape(stem)}-*{glob_escape(suffix)}"
        remove_stale_temporaries(self.fs, posixpath.join(parent, parts), literal=False)
        if self.max_records_per_file is None:
            return
        pattern = posixpath.join(glob_escape(parent), f"{glob_escape(stem)}-*{glob_escape(suffix)}")
        part = re.compile(rf"{re.escape(stem)}-\d{{{PART_DIGITS}}}{re.escape(suffix)}")
        keep = set(landed)
        for candidate in self.fs.glob(pattern):
            if candidate not in keep and part.fullmatch(posixpath.basename(candidate)):
                self.fs.rm(candidate)
