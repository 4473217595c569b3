"""Records as JSON lines, made once for both the pager's repeat check and the NDJSON writer.

Each record is JSON on one line, UTF-8; a newline inside a string is ``\\n`` (JSON allows no raw
newline there), so a record never spans lines, however the page was formatted.

Records the pager read with msgspec arrive as the bytes the server sent
(:class:`RawRecords`): the lines are those bytes joined with ``\\n``, and a record sent
pretty-printed is compacted by ``msgspec.json.format`` without building Python objects. Its
escapes and number spellings stay as sent (``"\\u00e9"``, ``1.50e+3``). Records read any other
way (:class:`LinedRecords`, or a plain list) are encoded by msgspec in one C call per page; the
standard library takes over for what msgspec refuses (a lone surrogate, NaN from a page only
the standard library could read), ASCII-escaped, with NaN and infinities as ``null`` as msgspec
writes them: every line stays strict JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import msgspec

_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder()


def json_lines(records: Sequence[Any]) -> bytes:
    """``records`` as NDJSON: one JSON document per line, each ending in ``\\n``."""
    if isinstance(records, (LinedRecords, RawRecords)):
        return records.lines
    return _encode(records)


def page_of(records: Sequence[Any]) -> int | None:
    """The page number ``records`` came from, when the pager made them."""
    return records.page if isinstance(records, (LinedRecords, RawRecords)) else None


def _encode(records: Sequence[Any]) -> bytes:
    try:
        return _ENCODER.encode_lines(records)
    except (TypeError, ValueError, UnicodeEncodeError):
        return "".join(_stdlib_line(record) for record in records).encode()


class LinedRecords(list[Any]):
    """A page's decoded records with their :func:`json_lines`, so the writer need not encode them again."""

    __slots__ = ("lines", "page")

    def __init__(self, records: Iterable[Any], *, page: int | None = None) -> None:
        super().__init__(records)
        self.lines = _encode(self)
        self.page = page


class RawRecords(Sequence[Any]):
    """A page's records as the server sent them; each is decoded only when it is read.

    ``lines`` is the NDJSON of the records, ready to write and to hash. Reading a record
    (``records[0]["id"]``, iterating) decodes all of them once, the way
    ``msgspec.json.decode`` would (the standard library for numbers msgspec cannot hold).
    """

    __slots__ = ("_decoded", "_raw", "lines", "page")

    def __init__(self, raw: Sequence[bytes | msgspec.Raw], lines: bytes, *, page: int | None = None) -> None:
        self._raw = raw
        self.lines = lines
        self.page = page
        self._decoded: list[Any] | None = None

    @classmethod
    def from_raw(cls, raw: Sequence[bytes | msgspec.Raw], *, page: int | None = None) -> RawRecords:
        """The records ``raw`` (each one valid JSON), lined: one record a line, however sent."""
        if not raw:
            return cls(raw, b"", page=page)
        joined = b"\n".join(raw)
        if joined.count(b"\n") != len(raw) - 1 or b"\r" in joined:
            # Some record spans lines (sent pretty-printed): compact those, bytes otherwise kept.
            joined = b"\n".join(
                msgspec.json.format(item, indent=-1) if (b"\n" in item or b"\r" in item) else item
                for item in (bytes(value) for value in raw)
            )
        return cls(raw, joined + b"\n", page=page)

    def __len__(self) -> int:
        return len(self._raw)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> RawRecords: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return RawRecords.from_raw(self._raw[index], page=self.page)
        return self._items()[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return self._items() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"[{len(self._raw)} records as sent]"

    def _items(self) -> list[Any]:
        if self._decoded is None:
            try:
                self._decoded = _DECODER.decode_lines(self.lines)
            except (msgspec.DecodeError, msgspec.ValidationError):
                self._decoded = [json.loads(line) for line in self.lines.splitlines()]
        return self._decoded


def _stdlib_line(record: Any) -> str:
    try:
        return _ENCODER.encode(record).decode() + "\n"
    except (TypeError, ValueError, UnicodeEncodeError):
        return json.dumps(_finite(record), separators=(",", ":"), default=str) + "\n"


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as ``null``: JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
