"""Atomic writes to any fsspec filesystem: readers see the whole object or none.

Each object is written to a hidden sibling ``.<name>.<token>.tmp`` and moved into place only
when everything is written (an ``os.rename`` on local disk; a server-side copy on S3, where an
object appears whole or not at all). A failed try deletes its temporaries; a killed one leaves
only hidden temporaries, which a later try removes once they provably belong to no live try
(see :mod:`airflow_provider_rh.transfers._sink`).
"""

from __future__ import annotations

import contextlib
import posixpath
import re
from typing import Any

#: fsspec's glob syntax; literal parts of a name are escaped before globbing.
_GLOB_SPECIAL = re.compile(r"([*?\[])")


def glob_escape(text: str) -> str:
    return _GLOB_SPECIAL.sub(r"[\1]", text)


def temp_name(name: str, token: str) -> str:
    return f".{name}.{token}.tmp"


class CountingStream:
    """A write-only stream that counts the bytes passed through to the file beneath."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.bytes_written = 0

    def write(self, data: bytes) -> int:
        self._raw.write(data)
        self.bytes_written += len(data)
        return len(data)

    def tell(self) -> int:
        return self.bytes_written

    def flush(self) -> None:
        self._raw.flush()

    def close(self) -> None:
        self._raw.close()

    @property
    def closed(self) -> bool:
        return bool(self._raw.closed)

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False


class AtomicFile:
    """One object at ``path`` on ``fs``, written to a temporary sibling and moved on :meth:`commit`."""

    def __init__(self, fs: Any, path: str, *, token: str) -> None:
        self.fs = fs
        self.path = path
        parent, name = posixpath.split(path)
        self.temp = posixpath.join(parent, temp_name(name, token))
        self._stream: CountingStream | None = None

    def open(self) -> CountingStream:
        _make_parent(self.fs, self.path)
        self._stream = CountingStream(self.fs.open(self.temp, "wb"))
        return self._stream

    @property
    def bytes_written(self) -> int:
        return self._stream.bytes_written if self._stream is not None else 0

    def close(self) -> None:
        """Finish the upload of the temporary object (it is not yet visible at ``path``)."""
        if self._stream is not None and not self._stream.closed:
            self._stream.close()

    def commit(self) -> None:
        self.close()
        self.fs.mv(self.temp, self.path)

    def discard(self) -> None:
        """Delete the temporary object; quietly, since this runs while another error propagates."""
        # An upload that cannot finish is exactly what is being thrown away.
        with contextlib.suppress(Exception):
            self.close()
        with contextlib.suppress(OSError):
            if self.fs.exists(self.temp):
                self.fs.rm(self.temp)


def _make_parent(fs: Any, path: str) -> None:
    from fsspec.implementations.local import LocalFileSystem

    # Object stores have no folders to make (and making one may mean creating a bucket).
    if isinstance(fs, LocalFileSystem):
        fs.makedirs(posixpath.dirname(path), exist_ok=True)
