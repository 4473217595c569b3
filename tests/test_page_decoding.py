"""Page decoding: records kept as the bytes the server sent, read only when something reads them.

Every page below is real bytes through the real pager; what a server may send (another charset,
pretty-printing, NaN, nesting a hundred thousand levels deep, bytes that are not UTF-8) either
lands as strict JSON lines or fails with a PaginationError naming the page and what is supported.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh.core.jsonl import RawRecords, json_lines
from airflow_provider_rh.exceptions import PaginationError
from airflow_provider_rh.pagination import NextLinkPagination, Page, Pager, PageRequest
from airflow_provider_rh.pagination._decode import decode_page


def pages_of(
    *bodies: bytes, content_type: str = "application/json", records_path: Any = "items"
) -> list[Page]:
    """The pages a Pager makes of ``bodies``, served one after another by next links."""

    def handler(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", 1))
        return httpx.Response(200, content=bodies[number - 1], headers={"content-type": content_type})

    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.example.se")

    def fetch(request: PageRequest) -> httpx.Response:
        return client.get(request.url, params=request.params)

    return list(Pager(NextLinkPagination("next"), fetch, records_path=records_path).pages("/units"))


def test_records_land_as_the_bytes_the_server_sent() -> None:
    sent = b'{"id":1,"name":"\\u00e9 \xc3\xa9","n":1.50e+3}'
    (page,) = pages_of(b'{"next": null, "items": [' + sent + b", " + sent.replace(b"1,", b"2,") + b"]}")
    assert isinstance(page.records, RawRecords)
    assert json_lines(page.records).split(b"\n")[0] == sent  # escapes and spellings kept
    assert page.records[0] == {"id": 1, "name": "é é", "n": 1500.0}  # read on demand
    assert [record["id"] for record in page.records] == [1, 2]
    assert page.body["next"] is None
    assert page.body["items"] is page.records


def test_a_pretty_printed_record_becomes_one_compact_line() -> None:
    records = [{"id": 1, "note": "a\nb", "geo": {"lat": 56.67}, "tags": ["x", "y"]}, {"id": 2}]
    (page,) = pages_of(
        json.dumps({"items": records}, indent=4, ensure_ascii=False).encode(), records_path="items"
    )
    lines = json_lines(page.records)
    assert lines == b'{"id":1,"note":"a\\nb","geo":{"lat":56.67},"tags":["x","y"]}\n{"id":2}\n'
    assert page.records[1:] == [{"id": 2}]
    assert json_lines(page.records[1:]) == b'{"id":2}\n'


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("application/json; charset=iso-8859-1", "iso-8859-1"),
        ('application/json;charset="windows-1252"', "cp1252"),
        ("application/json; charset=utf-16", "utf-16"),
        ("application/json", "utf-16"),  # no charset, but a byte order mark
        ("application/json", "utf-8-sig"),
    ],
)
def test_a_declared_charset_is_decoded_and_lands_as_utf8(content_type: str, encoding: str) -> None:
    body = json.dumps(
        {"items": [{"name": "Åsa Öster €"[: 10 if "8859" in encoding else None]}]}, ensure_ascii=False
    )
    (page,) = pages_of(body.encode(encoding), content_type=content_type)
    assert json.loads(json_lines(page.records)) == json.loads(body)["items"][0]
    json_lines(page.records).decode("utf-8")


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            b'{"items": ["\xe5sa"]}',
            "application/json",
            r"Page 1 from https://api.example.se/units is not valid utf-8",
        ),
        (b'{"items": []}', "application/json; charset=klingon", r"Page 1 .*declares charset='klingon'"),
        ("ä".encode("utf-16-le") * 3, "application/json; charset=ascii", r"Page 1 .*is not valid ascii"),
        (b"<html>", "text/html", r"Page 1 .*is not JSON \(text/html, 6 bytes\)"),
        (
            b'{"items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "application/json",
            r"Page 1 .*nested too deeply",
        ),
        (
            b"[" * 100_000 + b"]" * 100_000,
            "application/json",
            r"nested too deeply .*Supported: JSON in UTF-8",
        ),
        (
            b'{"items": [' + b"[" * 5000 + b"NaN" + b"]" * 5000 + b"]}",
            "application/json",
            r"nested too deeply",
        ),
    ],
)
def test_a_page_that_cannot_be_read_is_a_pagination_error_naming_it(
    body: bytes, content_type: str, message: str
) -> None:
    with pytest.raises(PaginationError, match=message):
        pages_of(body, content_type=content_type, records_path=None if body.startswith(b"[") else "items")


def test_what_msgspec_refuses_is_read_by_the_standard_library_and_lined_strictly() -> None:
    (page,) = pages_of(b'{"items": [{"v": NaN, "s": "\\ud83d"}], "next": null}')
    assert json_lines(page.records) == b'{"v":null,"s":"\\ud83d"}\n'


def test_a_dotted_path_reads_a_key_with_dots_and_lists_by_index() -> None:
    body = b'{"data": [{"@odata.items": [{"id": 1}], "other": [1]}], "@odata.nextLink": null}'
    (page,) = pages_of(body, records_path="data.0.@odata.items")
    assert page.records == [{"id": 1}]
    assert page.body == {"data": [{"@odata.items": page.records, "other": [1]}], "@odata.nextLink": None}


def test_a_repeated_page_is_noticed_by_its_raw_bytes() -> None:
    body = b'{"items": [{"id": 1}], "next": "/units?page=2"}'
    with pytest.raises(PaginationError, match="Page 2 has exactly the records of page 1"):
        pages_of(body, body.replace(b"page=2", b"page=3"))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.fuzz
@given(st.lists(json_values, max_size=6), st.sampled_from([None, 0, 2, "\t"]), st.booleans())
@example([{"a": "x\ny"}, ["\u2028"], "s"], 2, False)
def test_any_records_in_any_layout_land_one_per_line(
    records: list[Any], indent: Any, ascii_only: bool
) -> None:
    body = json.dumps({"items": records}, indent=indent, ensure_ascii=ascii_only).encode()
    _, lined, found = decode_page(body, "application/json", "items", number=1)
    assert found
    lines = json_lines(lined)
    assert lines.count(b"\n") == len(records)
    assert [json.loads(line) for line in lines.splitlines()] == records
    assert list(lined) == records


@pytest.mark.fuzz
@given(st.binary(max_size=300), st.sampled_from([None, "application/json; charset=latin-1", "text/plain"]))
def test_any_bytes_decode_or_fail_with_a_pagination_error(body: bytes, content_type: str | None) -> None:
    failure = ""
    try:
        _, records, _ = decode_page(body, content_type, None, number=7)
    except PaginationError as exc:
        failure = str(exc)
    else:
        if isinstance(records, RawRecords):
            for line in json_lines(records).splitlines():
                json.loads(line)
    assert not failure or failure.startswith("Page 7 ")
