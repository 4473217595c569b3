"""NDJSON as written from real pages: one strict JSON document per line, whatever the input.

Pages are served pretty-printed (newlines and indentation between the values), records hold
non-ASCII text, escaped newlines and quotes inside strings, nested objects and big numbers;
what lands must read back record for record, one per ``\\n``-terminated line.
"""

from __future__ import annotations

import gc
import gzip
import json
import math
from pathlib import Path
from typing import Any

import httpx
import pytest
from fsspec.implementations.local import LocalFileSystem

from airflow_provider_rh.core.jsonl import json_lines
from airflow_provider_rh.exceptions import ConfigurationError, PaginationError
from airflow_provider_rh.pagination import OffsetPagination, Pager, PageRequest
from airflow_provider_rh.transfers._formats import check_gzip_level
from airflow_provider_rh.transfers._progress import Progress
from airflow_provider_rh.transfers._pull import pull
from airflow_provider_rh.transfers._sink import RecordSink

TRICKY: list[Any] = [
    {"id": 1, "name": "Vårdcentral Åsa \u2013 Öster", "emoji": "🏥", "cjk": "病院"},
    {"id": 2, "note": "line one\nline two\r\nthree\tfour", "quote": 'say "hej"', "slash": "a\\b/c"},
    {"id": 3, "separators": "\u2028 and \u2029 and \u0085", "nul": "a\u0000b", "empty": ""},
    {"id": 4, "address": {"street": "Storgatan 1", "geo": {"lat": 56.67, "lon": 12.86}}, "tags": []},
    {"id": 5, "big": 123456789012345678901234567890, "neg": -1e-300, "float": 0.1, "flag": None},
    {"id": 6, "nested": [{"a": [1, [2, [3, {"b": "c\nd"}]]]}, {}], "unicode_escape": "\u00e9"},
    [1, "a record may be a list", {"x": True}],
    "or a bare string\nwith a newline",
]


def serve(records: list[Any], *, indent: int | None = 2, ignore_offset: bool = False) -> Any:
    """A fetch for Pager: pages of 3 records, pretty-printed, with the total and the offset."""

    def handler(request: httpx.Request) -> httpx.Response:
        offset = 0 if ignore_offset else int(request.url.params.get("offset", 0))
        page = {"offset": int(request.url.params.get("offset", 0)), "total": len(records)}
        page["items"] = records[offset : offset + 3]
        body = json.dumps(page, indent=indent, ensure_ascii=False)
        return httpx.Response(200, content=body.encode(), headers={"content-type": "application/json"})

    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.example.se")

    def fetch(request: PageRequest) -> httpx.Response:
        return client.get(request.url, params=request.params)

    return fetch


def land(tmp_path: Path, name: str, fetch: Any, **sink_args: Any) -> bytes:
    pager = Pager(OffsetPagination(3, total_path="total"), fetch, records_path="items")
    path = tmp_path / name
    sink = RecordSink(LocalFileSystem(), str(path), fmt="ndjson", **sink_args)
    pull(pager.pages("/units", None), sink, Progress(report=lambda _: None), destination=str(path))
    raw = path.read_bytes()
    return gzip.decompress(raw) if name.endswith(".gz") else raw


def lines_of(raw: bytes) -> list[bytes]:
    """NDJSON lines: ended by ``\\n`` and nothing else (not U+2028, not ``\\r``)."""
    assert raw.endswith(b"\n")
    return raw[:-1].split(b"\n")


@pytest.mark.parametrize("indent", [2, None])
def test_tricky_records_land_one_strict_json_document_per_line(tmp_path: Path, indent: int | None) -> None:
    raw = land(tmp_path, "units.ndjson", serve(TRICKY, indent=indent))

    lines = lines_of(raw)
    assert len(lines) == len(TRICKY)
    assert [json.loads(line) for line in lines] == TRICKY
    # The bytes the server sent (UTF-8, not ASCII-escaped); a record sent across lines compacted.
    assert "Vårdcentral Åsa \u2013 Öster".encode() in lines[0]
    assert b"\\n" in lines[1]
    separators = (", ", ": ") if indent is None else (",", ":")
    assert lines[3] == json.dumps(TRICKY[3], separators=separators, ensure_ascii=False).encode()
    assert b'"big":%s123456789012345678901234567890' % separators[1][1:].encode() in lines[4]


def test_gzip_level_changes_the_size_not_the_records(tmp_path: Path) -> None:
    records = [{"id": i, "text": f"record {i % 7} " * 20} for i in range(300)]
    sizes = {}
    for level in (1, 9):
        name = f"level{level}.ndjson.gz"
        landed = lines_of(land(tmp_path, name, serve(records), gzip_level=level))
        assert [json.loads(line) for line in landed] == records
        sizes[level] = (tmp_path / name).stat().st_size
    assert sizes[9] < sizes[1]


@pytest.mark.parametrize("level", [-1, 10, "6", True, 6.0])
def test_a_gzip_level_outside_0_to_9_is_refused(level: Any) -> None:
    with pytest.raises(ConfigurationError, match="gzip_level must be an integer from 0"):
        check_gzip_level(level)


def test_what_msgspec_refuses_still_lands_as_strict_json() -> None:
    # The standard library's decoder (used when msgspec refuses a page) lets both through.
    records = json.loads('[{"lone": "\\ud83d"}, {"nan": NaN}]')
    lines = lines_of(json_lines(records))
    strict = [json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} is not JSON")) for line in lines]
    assert strict[0] == {"lone": "\ud83d"}
    assert strict[1] == {"nan": None}  # JSON has no NaN: written as null, as msgspec does
    lines[0].decode("utf-8")  # valid UTF-8: the surrogate is escaped, not written raw


def test_a_page_json_msgspec_refuses_is_read_by_the_standard_library() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = '{"total": 1, "items": [{"id": 1, "value": NaN, "name": "\\ud83d"}]}'
        return httpx.Response(200, content=body.encode())

    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.example.se")
    pager = Pager(OffsetPagination(3, total_path="total"), lambda r: client.get(r.url), records_path="items")
    (page,) = pager.pages("/units")
    assert page.records[0]["name"] == "\ud83d"
    assert math.isnan(page.records[0]["value"])


def test_records_repeated_under_a_different_body_are_noticed(tmp_path: Path) -> None:
    # The API ignores the offset but echoes it: the bodies differ, the records do not.
    with pytest.raises(PaginationError, match="Page 2 has exactly the records of page 1"):
        land(tmp_path, "units.ndjson", serve(TRICKY, ignore_offset=True))
    assert not any(tmp_path.iterdir()), "a failed pull leaves nothing behind"


def test_the_lines_the_pager_made_are_the_ones_written(tmp_path: Path) -> None:
    pager = Pager(OffsetPagination(3, total_path="total"), serve(TRICKY), records_path="items")
    pages = list(pager.pages("/units"))
    assert b"".join(json_lines(page.records) for page in pages) == land(tmp_path, "a.ndjson", serve(TRICKY))


@pytest.mark.parametrize("frozen_before", [False, True])
def test_the_pull_freezes_the_heap_only_while_it_runs(tmp_path: Path, frozen_before: bool) -> None:
    seen: list[int] = []

    def fetch(request: PageRequest) -> httpx.Response:
        seen.append(gc.get_freeze_count())
        return serve(TRICKY)(request)

    if frozen_before:
        gc.freeze()
    before = gc.get_freeze_count()
    try:
        land(tmp_path, "units.ndjson", fetch)
        assert all(count > 0 for count in seen)
        # Unfrozen afterwards, unless someone else had frozen first: their freeze stays. (Frozen
        # objects that die leave the permanent generation, so its size may shrink meanwhile.)
        assert (gc.get_freeze_count() > 0 and before > 0) if frozen_before else gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


def test_the_operator_refuses_a_bad_gzip_level_when_the_dag_is_parsed() -> None:
    from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

    with pytest.raises(ConfigurationError, match="gzip_level"):
        RegionHallandApiToStorageOperator(
            task_id="pull",
            path="/units",
            destination="file:///tmp/units.ndjson.gz",
            pagination=OffsetPagination(3, total_path="total"),
            gzip_level=12,
        )
