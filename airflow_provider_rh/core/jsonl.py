"""Records as JSON lines, encoded once for both the pager's repeat check and the NDJSON writer.

Each record becomes compact JSON on one line, UTF-8, not ASCII-escaped; a newline inside a
string is written as ``\\n``, so a record never spans lines, however the page was formatted.
msgspec does it in one C call per page; the standard library takes over for what msgspec refuses
(a lone surrogate, NaN from a page only the standard library could read), ASCII-escaped, with
NaN and infinities as ``null`` as msgspec writes them: every line stays strict JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

_ENCODER = msgspec.json.Encoder()


def json_lines(records: Sequence[Any]) -> bytes:
    """``records`` as NDJSON: one compact JSON document per line, each ending in ``\\n``."""
    if isinstance(records, LinedRecords):
        return records.lines
    return _encode(records)


def _encode(records: Sequence[Any]) -> bytes:
    try:
        return _ENCODER.encode_lines(records)
    except (TypeError, ValueError, UnicodeEncodeError):
        return "".join(_stdlib_line(record) for record in records).encode()


class LinedRecords(list[Any]):
    """A page's records with their :func:`json_lines`, so the writer need not encode them again."""

    __slots__ = ("lines",)

    def __init__(self, records: Iterable[Any]) -> None:
        super().__init__(records)
        self.lines = _encode(self)


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
