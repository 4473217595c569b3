"""The sample records are pure functions of their id, so tests can compute what to expect."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

from airflow_provider_rh.sandbox.data import MUNICIPALITIES, id_range, unit, units

UTC = dt.timezone.utc


def test_a_record_has_the_hsa_unit_shape() -> None:
    record = unit(42)

    assert list(record) == ["id", "hsaId", "name", "unitType", "address", "municipalityCode", "updated"]
    assert record["id"] == 42
    assert record["hsaId"] == "SE2321000255-E00000000042"
    assert set(record["address"]) == {"street", "postalCode", "city"}
    assert record["municipalityCode"] in {code for code, _, _ in MUNICIPALITIES}
    assert record["updated"] == "2026-01-01T03:30:00Z"


def test_records_are_deterministic_and_updated_grows_with_id() -> None:
    records = list(units(500))

    assert records == list(units(500))
    assert [r["id"] for r in records] == list(range(1, 501))
    assert all(a["updated"] < b["updated"] for a, b in pairwise(records))
    assert {r["municipalityCode"] for r in records} == {"1315", "1380", "1381", "1382", "1383", "1384"}


def test_epoch_and_step_are_configurable() -> None:
    record = unit(3, epoch=dt.datetime(2025, 6, 1, tzinfo=UTC), step=dt.timedelta(hours=1))

    assert record["updated"] == "2025-06-01T03:00:00Z"


def test_id_range_selects_since_inclusive_before_exclusive() -> None:
    since = dt.datetime(2026, 1, 1, 0, 10, tzinfo=UTC)  # record 2 exactly
    before = dt.datetime(2026, 1, 1, 0, 25, tzinfo=UTC)  # record 5 exactly

    assert id_range(100, updated_since=since, updated_before=before) == range(2, 5)
    assert id_range(100) == range(1, 101)
    assert len(id_range(100, updated_since=before, updated_before=since)) == 0
    assert id_range(3, updated_since=dt.datetime(2020, 1, 1, tzinfo=UTC)) == range(1, 4)
