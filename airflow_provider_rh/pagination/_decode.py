"""A page's body decoded down to its records, which stay the bytes the server sent.

msgspec reads the page's structure (the next link, the cursor, the total: everything but the
records) and leaves each record as its raw JSON bytes (``msgspec.Raw``), validated but not
turned into Python objects. The records become NDJSON by joining those bytes with newlines; a
record the server pretty-printed (a newline between its tokens) is compacted by
``msgspec.json.format`` without building objects. A record is decoded only when something reads
it (a high-water mark, a custom pagination), see :class:`~airflow_provider_rh.core.jsonl.RawRecords`.

What is read, exactly:

- **Charsets.** JSON is UTF-8 (RFC 8259), with or without a byte order mark; UTF-16 and UTF-32
  are recognised by their byte order mark; any other charset Python knows is decoded when the
  ``Content-Type`` declares it (``application/json; charset=iso-8859-1``), and transcoded to
  UTF-8 before reading. Bytes that are not valid in the charset fail the page.
- **What msgspec refuses** (NaN and infinities, lone surrogate escapes, numbers out of range)
  is read by the standard library instead; those pages' records are encoded again, NaN and
  infinities as ``null``, so every landed line stays strict JSON.
- **Nesting** deeper than the interpreter's recursion limit (about 1,000 levels) fails the page
  with :class:`~airflow_provider_rh.exceptions.PaginationError`, as does anything else that is
  not JSON: every failure names the page.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

import msgspec

from airflow_provider_rh.core.jsonl import LinedRecords, RawRecords
from airflow_provider_rh.exceptions import PaginationError
from airflow_provider_rh.pagination._paths import KeyPath, lookup

_FULL = msgspec.json.Decoder()
_NODE = msgspec.json.Decoder(dict[str, msgspec.Raw] | list[msgspec.Raw])

#: Byte order marks JSON may start with, and the codec each one means.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_UTF8 = {"utf-8", "utf8", "utf_8"}
#: Charsets in which ASCII bytes mean ASCII text (so an ASCII body needs no transcoding).
_ASCII_COMPATIBLE = _UTF8 | {"ascii", "us-ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}

#: What a failure message says is supported.
SUPPORTED = (
    "JSON in UTF-8 (or UTF-16/32 with a byte order mark, or a charset declared in Content-Type), "
    "nested at most about 1,000 levels deep"
)


class _Fallback(Exception):
    """msgspec refused something the standard library may read (NaN, a lone surrogate)."""


def decode_page(
    content: bytes, content_type: str | None, records_path: KeyPath | None, *, number: int, source: str = ""
) -> tuple[Any, Any, bool]:
    """``(body, records, found)`` of page ``number``; ``records`` is what ``records_path`` leads to.

    ``found`` is False when the path leads nowhere; the caller words that error. ``source`` (the
    page's URL) is named in errors.
    """
    name = f"{number} from {source}" if source else str(number)
    text = to_utf8(content, content_type, name=name)
    try:
        return _split(text, records_path, number)
    except _Fallback:
        pass
    except RecursionError as exc:
        raise _too_deep(name) from exc
    try:
        body = json.loads(text)
    except RecursionError as exc:
        raise _too_deep(name) from exc
    except ValueError as exc:
        kind = content_type or "no content type"
        raise PaginationError(
            f"Page {name} is not JSON ({kind}, {len(content)} bytes): {str(exc)[:200]}. "
            f"Supported: {SUPPORTED}."
        ) from exc
    found, records = lookup(body, records_path)
    if found and isinstance(records, list):
        try:
            records = LinedRecords(records, page=number)
        except RecursionError as exc:
            raise _too_deep(name) from exc
        body = _replace(body, records_path, records)
    return body, records, found


def to_utf8(content: bytes, content_type: str | None, *, name: str) -> bytes:
    """``content`` as UTF-8, decoded as declared; a PaginationError if it is not valid in it."""
    charset = _charset(content_type)
    if charset is None:
        for bom, codec in _BOMS:
            if content.startswith(bom):
                charset = codec
                break
    if content.isascii() and (charset is None or charset in _ASCII_COMPATIBLE):
        return content  # the common case: nothing to check or transcode
    if charset is None or charset in _UTF8:
        if content.startswith(codecs.BOM_UTF8):
            content = content[len(codecs.BOM_UTF8) :]
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _bad_charset(name, charset or "utf-8", exc) from exc
        return content
    try:
        codecs.lookup(charset)
    except LookupError as exc:
        raise PaginationError(
            f"Page {name} declares charset={charset!r}, which Python does not know. Supported: {SUPPORTED}."
        ) from exc
    try:
        return content.decode(charset).encode("utf-8")
    except UnicodeError as exc:
        raise _bad_charset(name, charset, exc) from exc


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type[:1000].split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').strip().lower() or None
    return None


def _bad_charset(name: str, charset: str, exc: UnicodeError) -> PaginationError:
    return PaginationError(
        f"Page {name} is not valid {charset} ({str(exc)[:200]}). Supported: {SUPPORTED}; a server "
        "sending another charset must declare it in Content-Type."
    )


def _too_deep(name: str) -> PaginationError:
    return PaginationError(
        f"Page {name} is nested too deeply to read (more than about 1,000 levels). Supported: {SUPPORTED}."
    )


def _split(text: bytes, path: KeyPath | None, number: int) -> tuple[Any, Any, bool]:
    if path is None or path == "":
        parts: list[str] = []
        dotted = False
    elif isinstance(path, str):
        parts, dotted = path.split("."), True
    else:
        parts, dotted = list(path), False
    try:
        found, body, records = _walk(text, parts, dotted, number)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise _Fallback from exc
    return body, records, found


def _walk(raw: Any, parts: list[str], dotted: bool, number: int) -> tuple[bool, Any, Any]:
    """``(found, body rebuilt with the records in place, records)`` for ``raw`` and ``parts``."""
    try:
        node = _NODE.decode(raw)
    except msgspec.ValidationError:  # a scalar: nothing to walk into
        value = _FULL.decode(raw)
        return (not parts), value, value
    if not parts:
        if isinstance(node, list):
            records = RawRecords.from_raw(node, page=number)
            return True, records, records
        body = {key: _FULL.decode(value) for key, value in node.items()}
        return True, body, body
    if isinstance(node, dict):
        sizes = range(len(parts), 0, -1) if dotted else (1,)
        for size in sizes:  # longest key first, as pagination._paths.lookup reads it
            key = ".".join(parts[:size])
            if key in node:
                found, sub, records = _walk(node[key], parts[size:], dotted, number)
                if found:
                    body = {name: sub if name == key else _FULL.decode(value) for name, value in node.items()}
                    return True, body, records
        return False, {key: _FULL.decode(value) for key, value in node.items()}, None
    key = parts[0]
    if key.isdigit() or (key.startswith("-") and key[1:].isdigit()):
        index = int(key)
        if -len(node) <= index < len(node):
            found, sub, records = _walk(node[index], parts[1:], dotted, number)
            if found:
                position = index % len(node)
                items = [sub if i == position else _FULL.decode(value) for i, value in enumerate(node)]
                return True, items, records
    return False, [_FULL.decode(value) for value in node], None


def _replace(body: Any, path: KeyPath | None, records: Any) -> Any:
    """``body`` with the list at ``path`` swapped for ``records`` (the same items, lined)."""
    if path is None or path == "":
        return records
    parts = path.split(".") if isinstance(path, str) else list(path)
    _swap(body, parts, isinstance(path, str), records)
    return body


def _swap(node: Any, parts: list[str], dotted: bool, records: Any) -> bool:
    if not parts:
        return False
    if isinstance(node, dict):
        for size in range(len(parts), 0, -1) if dotted else (1,):
            key = ".".join(parts[:size])
            if key in node:
                rest = parts[size:]
                if not rest:
                    if isinstance(node[key], list):
                        node[key] = records
                        return True
                    continue
                if _swap(node[key], rest, dotted, records):
                    return True
        return False
    if isinstance(node, list):
        key = parts[0]
        if key.isdigit() or (key.startswith("-") and key[1:].isdigit()):
            index = int(key)
            if -len(node) <= index < len(node):
                if len(parts) == 1:
                    node[index] = records
                    return True
                return _swap(node[index], parts[1:], dotted, records)
    return False
