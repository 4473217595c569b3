"""Parquet from real pages: Arrow reads the lines the server sent; no value is truncated or dropped.

The first row group fixes the columns and types (docs/operators.md, "Parquet types"); a later
page that does not fit fails naming the page and the field, and nothing lands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from fsspec.implementations.local import LocalFileSystem
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh.exceptions import ConfigurationError
from airflow_provider_rh.pagination import NextLinkPagination, Pager, PageRequest
from airflow_provider_rh.transfers._progress import Progress
from airflow_provider_rh.transfers._pull import pull
from airflow_provider_rh.transfers._sink import RecordSink


def fetch_pages(pages: list[list[Any]]) -> Any:
    """A fetch serving ``pages`` one after another by next links."""

    def handler(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", 1))
        following = f"/units?page={number + 1}" if number < len(pages) else None
        body = {"items": pages[number - 1], "next": following}
        return httpx.Response(
            200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )

    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.example.se")

    def fetch(request: PageRequest) -> httpx.Response:
        return client.get(request.url, params=request.params)

    return fetch


def land(tmp_path: Path, pages: list[list[Any]], row_group_size: int = 2) -> list[dict[str, Any]]:
    path = tmp_path / "units.parquet"
    pager = Pager(NextLinkPagination("next"), fetch_pages(pages), records_path="items")
    sink = RecordSink(LocalFileSystem(), str(path), fmt="parquet", row_group_size=row_group_size)
    pull(pager.pages("/units"), sink, Progress(report=lambda _: None), destination=str(path))
    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows


def test_types_come_from_the_first_row_group_and_strings_stay_strings(tmp_path: Path) -> None:
    pages = [[{"id": 1, "amount": 5, "updated": "2026-01-01T00:00:00+01:00", "geo": {"lat": 56.6}}]]
    pages.append([{"id": 2, "amount": 5.5, "updated": "2026-02-01T00:00:00Z", "geo": {"lat": 57}}])
    pages.append([{"id": 3, "amount": 6, "tags": None}])  # an int in a double column; fields missing
    rows = land(tmp_path, pages, row_group_size=2)
    assert rows == [
        {"id": 1, "amount": 5.0, "updated": "2026-01-01T00:00:00+01:00", "geo": {"lat": 56.6}},
        {"id": 2, "amount": 5.5, "updated": "2026-02-01T00:00:00Z", "geo": {"lat": 57.0}},
        {"id": 3, "amount": 6.0, "updated": None, "geo": None},
    ]
    schema = pq.read_schema(tmp_path / "units.parquet")
    assert (str(schema.field("amount").type), str(schema.field("updated").type)) == ("double", "string")


@pytest.mark.parametrize(
    ("later", "message"),
    [
        (
            {"id": 3, "amount": 5.5},
            r"Field 'amount' is int64 in the first row group \(pages 1-2\) but double on page 4",
        ),
        (
            {"id": 3, "amount": 5, "unit": "kr"},
            r"Field 'unit' first appears on page 4, after the first row group",
        ),
        ({"id": 3, "amount": "5"}, r"Field 'amount' is int64 .* but string on page 4"),
        (
            {"id": 3, "amount": 5, "note": 1},
            r"Field 'note' is null in the first row group .* but int64 on page 4",
        ),
        (
            {"id": 3, "amount": 5, "geo": {"lat": 1, "alt": 2}},
            r"Field 'geo' is struct<lat: int64> .* on page 4",
        ),
    ],
)
def test_a_later_page_that_does_not_fit_fails_naming_page_and_field(
    tmp_path: Path, later: dict[str, Any], message: str
) -> None:
    first = [
        [{"id": 1, "amount": 5, "note": None, "geo": {"lat": 1}}],
        [{"id": 2, "amount": 7, "note": None}],
    ]
    with pytest.raises(ConfigurationError, match=message) as info:
        land(tmp_path, [*first, [{"id": 3, "amount": 8}], [later]], row_group_size=2)
    assert "raise parquet_row_group_size" in str(info.value)
    assert list(tmp_path.iterdir()) == [], "nothing lands"


@pytest.mark.parametrize("records", [[[1, 2]], ["a string"], [1], [{"id": 1}, [2]]])
def test_records_that_are_not_objects_fail_naming_the_page(tmp_path: Path, records: list[Any]) -> None:
    with pytest.raises(ConfigurationError, match=r"records of page 2: each record must be a JSON object"):
        land(tmp_path, [[], records], row_group_size=10)
    assert list(tmp_path.iterdir()) == []


def test_no_records_land_an_empty_file(tmp_path: Path) -> None:
    assert land(tmp_path, [[]]) == []


flat_values = (
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(-1e9, 1e9) | st.text(max_size=5)
)


@pytest.mark.fuzz
@given(
    st.lists(
        st.lists(st.dictionaries(st.sampled_from("abc"), flat_values, max_size=3), max_size=3),
        min_size=1,
        max_size=4,
    ),
    st.integers(1, 4),
)
@example([[{"a": 5}], [{"a": 5.5}]], 1)
@example([[{"a": 5}], [{"b": 1}]], 1)
@example([[{"a": True}], [{"a": 1}]], 1)
@example([[{}], [{"a": 1}]], 1)
@example([[{}, {"a": None}]], 1)
def test_parquet_lands_every_value_exactly_or_fails(
    tmp_path_factory: pytest.TempPathFactory, pages: list[list[dict[str, Any]]], row_group_size: int
) -> None:
    tmp_path = tmp_path_factory.mktemp("p")
    number = iter(range(1_000_000))
    pages = [[{"id": next(number), **record} for record in page] for page in pages]  # no page repeats
    try:
        rows = land(tmp_path, pages, row_group_size=row_group_size)
    except ConfigurationError as exc:
        assert "page" in str(exc)  # noqa: PT017 (a property: either outcome is fine, a silent loss is not)
        return
    records = [record for page in pages for record in page]
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        # Every value lands; a field null throughout and first seen after the first row group is
        # left out (documented: it holds no value), so only fields with a value must be columns.
        assert {key for key, value in record.items() if value is not None} <= set(row)
        for key, value in row.items():
            sent = record.get(key)
            assert value == sent, (key, value, sent)
            assert isinstance(value, bool) == isinstance(sent, bool)


def test_a_record_longer_than_a_read_block_lands_whole(tmp_path: Path) -> None:
    long = "å" * (1 << 20)  # 2 MiB of UTF-8: longer than Arrow's 1 MiB read blocks
    pages = [[{"id": 1, "text": "short"}], [{"id": 2, "text": long}, {"id": 3, "text": long[:5]}]]
    rows = land(tmp_path, pages, row_group_size=1)
    assert [row["text"] for row in rows] == ["short", long, long[:5]]
