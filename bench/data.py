"""The benchmark's records: about 330 bytes of JSON each, with what makes encoders work.

Record ``i`` (1-based) is a pure function of ``i``, so the server can render pages from
templates and the checker can compute what every output must hold. Strings carry non-ASCII
letters, a quote and an escaped newline, so an encoder that mangles any of them is caught.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

#: Records per page the competitors ask for (and the server's largest page).
PAGE_SIZE = 1000

_TYPES = ("Vårdcentral", "Tandvårdsklinik", "Mottagning", "Vårdavdelning", "Barnmorskemottagning")
_TOWNS = (("1380", "Halmstad", "302"), ("1383", "Varberg", "432"), ("1384", "Kungsbacka", "434"))
_STREETS = ("Storgatan", "Kyrkogatan", "Parkvägen", "Ängsvägen", "Lasarettsvägen")
_NOTE = 'Öppet 08\u201317, "drop-in" tis.\nRing 1177 först.'


def _template(k: int) -> bytes:
    """Record template for ``i % PAGE_SIZE == k``: ``%d`` where the id goes (three times)."""
    code, town, postal = _TOWNS[k % len(_TOWNS)]
    unit_type = _TYPES[k % len(_TYPES)]
    fixed = {
        "unitType": unit_type,
        "address": {
            "street": f"{_STREETS[k % len(_STREETS)]} {k % 97 + 1}",
            "postalCode": f"{postal} {k % 90 + 10:02d}",
            "city": town,
        },
        "municipalityCode": code,
        "updated": f"2026-{k % 12 + 1:02d}-{k % 28 + 1:02d}T{k % 24:02d}:{k % 60:02d}:00Z",
        "open": k % 3 != 0,
        "rating": round(1 + (k % 400) / 100, 2),
        "tags": ["hsa", town.lower()][: 1 + k % 2],
        "note": _NOTE,
    }
    tail = msgspec.json.encode(fixed)[1:-1].replace(b"%", b"%%")
    name = f"{unit_type} {town} %d".encode()
    return b'{"id":%d,"hsaId":"SE2321000255-E%011d","name":"' + name + b'",' + tail + b"}"


_TEMPLATES = [_template(k) for k in range(PAGE_SIZE)]
#: A whole aligned page as one format string: rendering it is one C call.
_PAGE_TEMPLATE = b",".join(_TEMPLATES)


def record_bytes(i: int) -> bytes:
    """Record ``i`` as compact JSON."""
    return _TEMPLATES[i % PAGE_SIZE] % (i, i, i)


def records_bytes(start: int, count: int) -> bytes:
    """Records ``start + 1 .. start + count`` as the inside of a JSON array."""
    if count == PAGE_SIZE and start % PAGE_SIZE == 0:
        ids = range(start + 1, start + count + 1)
        # The aligned template begins at k = 0 but id start+1 has k = 1: rotate by one.
        return _aligned(start, ids)
    return b",".join(record_bytes(i) for i in range(start + 1, start + count + 1))


def _aligned(start: int, ids: range) -> bytes:
    # Template k serves id i with i % PAGE_SIZE == k; ids start+1..start+1000 cover k = 1..999, 0.
    head = b",".join(_TEMPLATES[1:]) % tuple(i for i in ids[:-1] for _ in range(3))
    return head + b"," + _TEMPLATES[0] % ((ids[-1],) * 3)


def record(i: int) -> Any:
    """Record ``i`` as Python data."""
    return msgspec.json.decode(record_bytes(i))


def record_digest(record: Any) -> int:
    """An order-independent content digest of one record (keys sorted, compact JSON)."""
    text = msgspec.json.encode(record, order="sorted")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def checksum(records: Iterable[Any]) -> tuple[int, int]:
    """``(count, sum of record digests mod 2**64)``: equal iff the same records, in any order."""
    count = total = 0
    for item in records:
        count += 1
        total = (total + record_digest(item)) & 0xFFFFFFFFFFFFFFFF
    return count, total


def expected(total: int) -> tuple[int, int]:
    """The checksum every competitor's output must have for ``total`` records."""
    return checksum(_all(total))


def _all(total: int) -> Iterator[Any]:
    decoder = msgspec.json.Decoder()
    for start in range(0, total, PAGE_SIZE):
        yield from decoder.decode(b"[" + records_bytes(start, min(PAGE_SIZE, total - start)) + b"]")
