"""Where the records go: one file, or one file per ``max_records_per_file`` with stable names.

Parts are named from the destination, ``units.ndjson.gz`` -> ``units-00000.ndjson.gz``,
``units-00001.ndjson.gz``, ..., so a rerun of the same interval writes the same names. All
parts are written to temporaries and moved into place together at the end; parts beyond the
new count, left by an earlier, larger run, are then deleted.

A destination that cannot be a file (an existing folder, an object-store prefix with objects
under it, a name ending in ``/``, a path below a file) is refused before anything is pulled:
moved onto a folder, the data would end up hidden inside it while the task reports success.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import uuid
from collections.abc import Sequence
from typing import Any

from airflow_provider_rh.exceptions import ConfigurationError
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


def check_destination(fs: Any, path: str, *, shown: str | None = None) -> None:
    """Refuse a destination that cannot be a file, before anything is pulled.

    ``shown`` is the destination as the user wrote it (a trailing ``/`` is lost in ``path``).
    On object stores a "folder" is a prefix with objects under it; a path below an existing
    file is checked on local disk only, where it cannot work (an object store has no such rule).
    """
    shown = shown if shown is not None else path
    name = posixpath.basename(path)
    if shown.rstrip().endswith("/") or name in ("", ".", ".."):
        raise ConfigurationError(
            f"destination {shown!r} names a folder, not a file. Give the file's full name, e.g. "
            f"{shown.rstrip().rstrip('/.')}/units.ndjson.gz, or with max_records_per_file the name the "
            "numbered parts are made from.",
            field="destination",
        )
    if _is_folder(fs, path):
        raise ConfigurationError(
            f"destination {shown!r} is {_folder_words(fs)}; the pull would hide its data inside it. "
            f"Give a file's full name, e.g. {shown.rstrip('/')}/units.ndjson.gz, or remove the folder.",
            field="destination",
        )
    if _is_local(fs):
        parent = posixpath.dirname(path)
        while parent and parent != posixpath.dirname(parent):
            if fs.isdir(parent):
                break  # every folder above exists too
            if fs.exists(parent):
                raise ConfigurationError(
                    f"destination {shown!r} lies below {parent!r}, which is a file, so no folder can be "
                    "made there. Choose another destination, or move that file away.",
                    field="destination",
                )
            parent = posixpath.dirname(parent)


def _is_local(fs: Any) -> bool:
    from fsspec.implementations.local import LocalFileSystem

    return isinstance(fs, LocalFileSystem)


def _is_folder(fs: Any, path: str) -> bool:
    with contextlib.suppress(FileNotFoundError, PermissionError):
        return bool(fs.isdir(path))
    return False


def _folder_words(fs: Any) -> str:
    return "an existing folder" if _is_local(fs) else "a folder (objects exist under that prefix)"


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
        destination: str | None = None,
    ) -> None:
        check_destination_name(fmt, posixpath.basename(path))
        self._destination = destination
        first = path if max_records_per_file is None else part_path(path, 0)
        check_destination(fs, first, shown=self._shown(first, path))
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
        for item in self._done:  # all checked before any moves: a folder made meanwhile, a part
            if _is_folder(self.fs, item.path):
                check_destination(self.fs, item.path, shown=self._shown(item.path, self.path))
        for item in self._done:
            item.commit()
        landed = [item.path for item in self._done]
        self._remove_stale(landed)
        return landed

    def _shown(self, path: str, main: str) -> str:
        """``path`` as the user would write it: the destination itself, or its part beside it."""
        if self._destination is None:
            return path
        if path == main:
            return self._destination
        return posixpath.join(posixpath.dirname(self._destination), posixpath.basename(path))

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
