"""Deterministic, non-personal records shaped like HSA organisational units.

Pure functions, so tests compute the exact data they expect. ``updated`` grows with ``id``
(``epoch + id * step``), so every ``updatedSince``/``updatedBefore`` window is a contiguous
id range (:func:`id_range`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from airflow_provider_rh.sandbox.config import DEFAULT_EPOCH, DEFAULT_STEP

UNIT_TYPES = ("Vårdcentral", "Tandvårdsklinik", "Mottagning", "Vårdavdelning", "Barnmorskemottagning")
# Halland's municipalities: code, town, postal code prefix.
MUNICIPALITIES = (
    ("1315", "Hyltebruk", "314"),
    ("1380", "Halmstad", "302"),
    ("1381", "Laholm", "312"),
    ("1382", "Falkenberg", "311"),
    ("1383", "Varberg", "432"),
    ("1384", "Kungsbacka", "434"),
)
STREETS = ("Storgatan", "Kyrkogatan", "Skolgatan", "Parkvägen", "Hamngatan", "Ängsvägen", "Lasarettsvägen")
_PLACES = ("Centrum", "Norr", "Söder", "Öster", "Väster", "Strand", "Backe", "Hage", "Ås", "Lund", "Dal")


def updated_at(
    i: int, *, epoch: dt.datetime = DEFAULT_EPOCH, step: dt.timedelta = DEFAULT_STEP
) -> dt.datetime:
    """When record ``i`` was last updated: ``epoch + i * step``."""
    return epoch + i * step


def format_time(moment: dt.datetime) -> str:
    """ISO-8601 UTC with a ``Z``, to the second, as the API writes times."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def unit(i: int, *, epoch: dt.datetime = DEFAULT_EPOCH, step: dt.timedelta = DEFAULT_STEP) -> dict[str, Any]:
    """Record number ``i`` (1-based)."""
    code, town, postal_prefix = MUNICIPALITIES[(i * 7) % len(MUNICIPALITIES)]
    unit_type = UNIT_TYPES[(i * 3) % len(UNIT_TYPES)]
    return {
        "id": i,
        "hsaId": f"SE2321000255-E{i:011d}",
        "name": f"{unit_type} {town} {_PLACES[i % len(_PLACES)]} {i}",
        "unitType": unit_type,
        "address": {
            "street": f"{STREETS[(i * 5) % len(STREETS)]} {i % 97 + 1}",
            "postalCode": f"{postal_prefix} {(i * 13) % 90 + 10:02d}",
            "city": town,
        },
        "municipalityCode": code,
        "updated": format_time(updated_at(i, epoch=epoch, step=step)),
    }


def units(
    count: int,
    *,
    epoch: dt.datetime = DEFAULT_EPOCH,
    step: dt.timedelta = DEFAULT_STEP,
    start: int = 1,
) -> Iterator[dict[str, Any]]:
    """Records ``start`` up to ``count`` inclusive, in id order."""
    for i in range(start, count + 1):
        yield unit(i, epoch=epoch, step=step)


def id_range(
    count: int,
    *,
    updated_since: dt.datetime | None = None,
    updated_before: dt.datetime | None = None,
    epoch: dt.datetime = DEFAULT_EPOCH,
    step: dt.timedelta = DEFAULT_STEP,
) -> range:
    """Ids whose ``updated`` is ``>= updated_since`` and ``< updated_before`` (both optional)."""
    first, stop = 1, count + 1
    if updated_since is not None:
        first = max(first, _first_id_at_or_after(updated_since, epoch, step))
    if updated_before is not None:
        stop = min(stop, _first_id_at_or_after(updated_before, epoch, step))
    return range(first, max(first, stop))


def _first_id_at_or_after(moment: dt.datetime, epoch: dt.datetime, step: dt.timedelta) -> int:
    # Integer microseconds, so window edges are exact (no float rounding).
    offset = (moment - epoch) // dt.timedelta(microseconds=1)
    step_us = step // dt.timedelta(microseconds=1)
    return -(-offset // step_us)
