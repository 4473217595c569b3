"""Where the records go: one file, or one file per ``max_records_per_file`` with stable names.

Parts are named from the destination, ``units.ndjson.gz`` -> ``units-00000.ndjson.gz``,
``units-00001.ndjson.gz``, ..., so a rerun of the same interval writes the same names. All
parts are written to temporaries and moved into place together at the end; parts beyond the
new count, left by an earlier, larger run, are then deleted.

A destination that cannot be a file (an existing folder, an object-store prefix with objects
under it, a name ending in ``/``, a path below a file) is refused before anything is pulled:
moved onto a folder, the data would end up hidden inside it while the task reports success.

Two runs may write one destination at once (a manual rerun while the scheduled run still
pulls; two mapped tasks rendering the same path). Each try's temporaries carry its own token,
``<task instance>-t<try number>-<random>`` (the task instance as a hash of dag id, run id, task
id and map index), and a run's clean-up removes only temporaries that provably belong to no
running try: those of an earlier try of the same task instance (Airflow runs one try of a task
instance at a time), and any left untouched for :data:`STALE_AFTER`. Every move is of one
complete file, so the destination always holds one run's complete output: the last run to move
its file in wins.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import posixpath
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_rh.exceptions import ConfigurationError
from airflow_provider_rh.transfers._formats import (
    DEFAULT_GZIP_LEVEL,
    DEFAULT_ROW_GROUP_SIZE,
    RecordEncoder,
    check_destination_name,
    open_encoder,
)
from airflow_provider_rh.transfers._writer import AtomicFile, glob_escape

#: Digits in a part number: 100 000 parts is far more than any run should write.
PART_DIGITS = 5

#: A temporary of another task instance untouched this long belongs to a try that died: a
#: live pull writes its temporary at every page (on S3 it appears only when it is complete,
#: moments before its move).
STALE_AFTER = dt.timedelta(hours=24)

#: ``<12 hex: task instance>-t<try number>-<16 hex: random>``
_TOKEN = re.compile(r"(?P<instance>[0-9a-f]{12})-t(?P<try>\d{1,9})-[0-9a-f]{16}")


@dataclass(frozen=True)
class TryIdentity:
    """Which try of which task instance is writing: what its temporaries are named after."""

    instance: str
    """12 hex digits of SHA-256 over dag id, run id, task id and map index."""
    try_number: int

    @classmethod
    def of(cls, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int) -> TryIdentity:
        digest = hashlib.sha256(f"{dag_id}\0{run_id}\0{task_id}\0{map_index}".encode()).hexdigest()
        return cls(instance=digest[:12], try_number=max(0, int(try_number)))

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> TryIdentity | None:
        """The running task instance's try, or ``None`` outside a task (then only age counts)."""
        ti = context.get("ti") or context.get("task_instance")
        if ti is None:
            return None
        try:
            return cls.of(ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number)
        except (AttributeError, TypeError, ValueError):
            return None

    def token(self) -> str:
        return f"{self.instance}-t{self.try_number}-{secrets.token_hex(8)}"


def _anonymous_token() -> str:
    """A token for a sink outside any task: a task instance no real one hashes to."""
    return f"{'0' * 12}-t0-{secrets.token_hex(8)}"


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
        owner: TryIdentity | None = None,
        clock: Callable[[], float] = time.time,
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
        self.owner = owner
        self._clock = clock
        self._token = owner.token() if owner is not None else _anonymous_token()
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
        self.remove_stale_temporaries()
        if self.max_records_per_file is None:
            return
        pattern = posixpath.join(glob_escape(parent), f"{glob_escape(stem)}-*{glob_escape(suffix)}")
        part = re.compile(rf"{re.escape(stem)}-\d{{{PART_DIGITS}}}{re.escape(suffix)}")
        keep = set(landed)
        for candidate in self.fs.glob(pattern):
            if candidate not in keep and part.fullmatch(posixpath.basename(candidate)):
                _remove_quietly(self.fs, candidate)

    def remove_stale_temporaries(self) -> list[str]:
        """Delete the temporaries of this destination that no running try can own; returns them.

        Never another live try's: only an earlier try of this same task instance, or anything
        untouched for :data:`STALE_AFTER`. One that vanishes meanwhile (another run moved or
        removed it) is no error.
        """
        parent, name = posixpath.split(self.path)
        stem, suffix = split_suffix(name)
        names = [glob_escape(name), f"{glob_escape(stem)}-*{glob_escape(suffix)}"]
        own = re.compile(
            rf"\.(?:{re.escape(name)}|{re.escape(stem)}-\d{{{PART_DIGITS}}}{re.escape(suffix)})\.(?P<token>.+)\.tmp"
        )
        removed: list[str] = []
        for shown in names:
            for candidate in sorted(self.fs.glob(posixpath.join(glob_escape(parent), f".{shown}.*.tmp"))):
                match = own.fullmatch(posixpath.basename(candidate))
                if (
                    match
                    and self._stale(candidate, match.group("token"))
                    and _remove_quietly(self.fs, candidate)
                ):
                    removed.append(candidate)
        return removed

    def _stale(self, path: str, token: str) -> bool:
        if token == self._token:
            return False  # ours: commit moved it, abort deletes it
        theirs = _TOKEN.fullmatch(token)
        if (
            theirs is not None
            and self.owner is not None
            and theirs.group("instance") == self.owner.instance
            and int(theirs.group("try")) < self.owner.try_number
        ):
            return True  # an earlier try of this task instance: Airflow runs one try at a time
        modified = _modified(self.fs, path)
        return modified is not None and self._clock() - modified > STALE_AFTER.total_seconds()


def _modified(fs: Any, path: str) -> float | None:
    """When ``path`` was last written, as epoch seconds, or ``None`` if the store cannot say."""
    try:
        info = fs.info(path)
    except (FileNotFoundError, OSError):
        return None
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, dt.datetime):
            return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _remove_quietly(fs: Any, path: str) -> bool:
    """Delete ``path``; ``False`` when it was already gone (another run got there first)."""
    try:
        fs.rm(path)
    except FileNotFoundError:
        return False
    return True
