"""The pagination strategies and the pager, against a small in-memory API (``httpx.MockTransport``).

The same strategies against the sandbox, through the hook, are in ``tests/transfers``.
"""

from __future__ import annotations

import copy
import logging
import pickle
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import airflow_provider_rh.pagination as pagination_package
from airflow_provider_rh.core.client import resolve_url
from airflow_provider_rh.exceptions import ConfigurationError, PaginationError, UnsafeUrlError
from airflow_provider_rh.pagination import (
    CallablePagination,
    CursorPagination,
    LinkHeaderPagination,
    NextLinkPagination,
    OffsetPagination,
    Page,
    PageNumberPagination,
    Pager,
    PageRequest,
    find,
    lookup,
    parse_link_header,
)

BASE = "https://api.example.se/hsainfo/v1"
COUNT = 23


class FakeApi:
    """``COUNT`` records ``{"id": i}`` in every pagination style, with switchable misbehaviour.

    ``limit``/``pageSize`` default to 5. Quirks: ``ignore_position`` (every page is the first),
    ``same_next`` (the next link never moves), ``cap`` (serve
    at most that many a page), ``next_link`` (a fixed next link to hand out).
    """

    def __init__(self, count: int = COUNT, **quirks: Any) -> None:
        self.count = count
        self.quirks = quirks
        self.requests: list[httpx.URL] = []
        self.lock = threading.Lock()

    def page(self, start: int, size: int) -> list[dict[str, int]]:
        size = min(size, self.quirks.get("cap", size))
        if self.quirks.get("ignore_position"):
            start = 0
        return [{"id": i} for i in range(start + 1, min(start + size, self.count) + 1)]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request.url)
        q = request.url.params
        route = request.url.path.removeprefix("/hsainfo/v1")
        size = int(q.get("limit") or q.get("pageSize") or q.get("$top") or 5)
        after = int(q.get("after", 0))
        if route in ("/next", "/link", "/odata", "/cursor"):
            items = self.page(after, size)
            more = bool(items) and items[-1]["id"] < self.count
            nxt_after = items[-1]["id"] if items else 0
            if self.quirks.get("same_next"):
                nxt_after = size
            link = self.quirks.get("next_link") or str(request.url.copy_merge_params({"after": nxt_after}))
            if route == "/next":
                return httpx.Response(200, json={"items": items, "next": link if more else None})
            if route == "/odata":
                return httpx.Response(
                    200, json={"value": items, **({"@odata.nextLink": link} if more else {})}
                )
            if route == "/cursor":
                return httpx.Response(
                    200, json={"data": {"items": items, "cursor": str(nxt_after) if more else None}}
                )
            headers = {"Link": f'<{link}>; rel="next", <{BASE}/link>; rel="first"'} if more else {}
            return httpx.Response(200, json=items, headers=headers)
        if route == "/cursor-param":
            return httpx.Response(404)
        if route == "/offset":
            items = self.page(int(q.get("offset", 0)), size)
            return httpx.Response(200, json={"items": items, "meta": {"total": self.count}})
        if route == "/pages":
            number = int(q.get("page", 1))
            items = self.page((number - 1) * size, size)
            return httpx.Response(
                200, json={"items": items, "totalCount": self.count, "pages": -(-self.count // size)}
            )
        if route == "/text":
            return httpx.Response(200, text="<html>maintenance</html>", headers={"content-type": "text/html"})
        return httpx.Response(404)


def make_fetch(api: FakeApi) -> Any:
    """Fetch the way the hook does: relative to the base URL, absolute URLs on its host only."""
    client = httpx.Client(transport=httpx.MockTransport(api))

    def fetch(request: PageRequest) -> httpx.Response:
        return client.get(resolve_url(BASE, request.url), params=request.params)

    return fetch


def ids(pages: Iterator[Page] | list[Page]) -> list[int]:
    return [record["id"] for page in pages for record in page.records]


def pull(api: FakeApi, strategy: Any, path: str, records_path: Any = "items", **kwargs: Any) -> list[Page]:
    pager = Pager(strategy, make_fetch(api), records_path=records_path, **kwargs)
    return list(pager.pages(path, kwargs.pop("params", None)))


ALL = list(range(1, COUNT + 1))


def test_public_names() -> None:
    assert pagination_package.__all__ == [
        "DEFAULT_MAX_PAGES",
        "CallablePagination",
        "CursorPagination",
        "InBody",
        "KeyPath",
        "LinkHeaderPagination",
        "NextLinkPagination",
        "OffsetPagination",
        "Page",
        "PageNumberPagination",
        "PageRequest",
        "Pager",
        "Pagination",
        "Plan",
        "find",
        "lookup",
        "parse_link_header",
    ]


# -- finding values ------------------------------------------------------------------------
DOC = {
    "data": {"items": [{"id": 1}, {"id": 2}]},
    "@odata.nextLink": "https://x/next",
    "meta": {"@odata.count": 7, "a.b": {"c": 1}},
    "a": {"b": {"c": 2}},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("data.items", [{"id": 1}, {"id": 2}]),
        (["data", "items"], [{"id": 1}, {"id": 2}]),
        ("data.items.1.id", 2),
        ("data.items.-1.id", 2),
        ("@odata.nextLink", "https://x/next"),
        (["@odata.nextLink"], "https://x/next"),
        ("meta.@odata.count", 7),
        ("meta.a.b.c", 1),  # the longest key with dots wins
        ("a.b.c", 2),
        (None, DOC),
        ("", DOC),
    ],
)
def test_find_by_dotted_path_or_keys(path: Any, expected: Any) -> None:
    assert find(DOC, path) == expected


@pytest.mark.parametrize("path", ["data.nothing", "data.items.5", ["@odata", "nextLink"], "meta.@odata"])
def test_lookup_says_when_a_path_leads_nowhere(path: Any) -> None:
    assert lookup(DOC, path) == (False, None)
    assert find(DOC, path, "default") == "default"


def test_a_path_must_be_text_or_keys() -> None:
    with pytest.raises(ConfigurationError, match="next_path must be a dotted path") as info:
        NextLinkPagination(42)  # type: ignore[arg-type]
    assert info.value.field == "next_path"


# -- each strategy -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("strategy", "path", "records_path", "pages"),
    [
        (NextLinkPagination("next"), "/next", "items", 5),
        (NextLinkPagination("@odata.nextLink"), "/odata", "value", 5),
        (NextLinkPagination(["@odata.nextLink"]), "/odata", "value", 5),
        (LinkHeaderPagination(), "/link", None, 5),
        (CursorPagination("data.cursor", cursor_param="after"), "/cursor", "data.items", 5),
        (OffsetPagination(limit=5), "/offset", "items", 6),  # until an empty page
        (OffsetPagination(limit=5, total_path="meta.total"), "/offset", "items", 5),
        (PageNumberPagination(5), "/pages", "items", 6),
        (PageNumberPagination(5, total_path="totalCount"), "/pages", "items", 5),
        (PageNumberPagination(5, total_pages_path="pages"), "/pages", "items", 5),
        (PageNumberPagination(None, size_param=None, total_path="totalCount"), "/pages", "items", 5),
    ],
    ids=repr,
)
def test_each_strategy_reads_every_record_once_in_order(
    strategy: Any, path: str, records_path: Any, pages: int
) -> None:
    api = FakeApi()
    result = pull(api, strategy, path, records_path)
    assert ids(result) == ALL
    assert [p.number for p in result] == list(range(1, pages + 1))
    assert len(api.requests) == pages


def test_filters_are_sent_with_every_page() -> None:
    api = FakeApi()
    pager = Pager(
        CursorPagination("data.cursor", cursor_param="after"), make_fetch(api), records_path="data.items"
    )
    list(pager.pages("/cursor", {"updatedSince": "2026-01-01T00:00:00Z"}))
    assert all(url.params["updatedSince"] == "2026-01-01T00:00:00Z" for url in api.requests)
    assert [url.params.get("after") for url in api.requests] == [None, "5", "10", "15", "20"]


def test_offset_moves_by_what_was_served_so_a_capping_server_loses_nothing() -> None:
    api = FakeApi(cap=3)
    assert ids(pull(api, OffsetPagination(limit=5), "/offset")) == ALL
    assert [url.params["offset"] for url in api.requests][:3] == ["0", "3", "6"]


def test_a_plan_refuses_a_server_that_caps_the_page_size() -> None:
    with pytest.raises(
        PaginationError, match="Page 1 holds 3 records where 5 were asked for, and 4 more pages follow"
    ) as info:
        pull(FakeApi(cap=3), OffsetPagination(limit=5, total_path="meta.total"), "/offset")
    assert "Ask for at most 3 a page" in str(info.value)


def test_relative_next_links_are_resolved_against_the_page() -> None:
    def relative(page: Page) -> str | None:
        last = page.records[-1]["id"] if page.records else COUNT
        return f"next?after={last}" if last < COUNT else None

    api = FakeApi()
    assert ids(pull(api, CallablePagination(relative), "/next")) == ALL
    assert str(api.requests[1]) == f"{BASE}/next?after=5"


def test_link_header_parsing() -> None:
    header = (
        '<https://a/x?page=2>; rel="next last"; title="Next, please", '
        '<https://a/x?page=1>; rel=prev, <https://a/y>;rel="first"'
    )
    assert parse_link_header(header) == [
        ("https://a/x?page=2", {"rel": "next last", "title": "Next, please"}),
        ("https://a/x?page=1", {"rel": "prev"}),
        ("https://a/y", {"rel": "first"}),
    ]


def test_callable_pagination_takes_query_changes_links_or_requests() -> None:
    def by_params(page: Page) -> dict[str, int] | None:
        offset = int(page.request.params["offset"]) + 5 if page.request.params else 5
        return {"offset": offset} if offset < COUNT else None

    api = FakeApi()
    pager = Pager(CallablePagination(by_params), make_fetch(api), records_path="items")
    assert ids(pager.pages("/offset", {"offset": 0})) == ALL

    def by_request(page: Page) -> PageRequest | None:
        return PageRequest("/offset", {"offset": 20}) if page.number == 1 else None

    assert ids(pull(FakeApi(), CallablePagination(by_request), "/offset")) == [1, 2, 3, 4, 5, 21, 22, 23]

    with pytest.raises(PaginationError, match=r"returned int 7 for page 1"):
        pull(FakeApi(), CallablePagination(lambda page: 7), "/offset")  # type: ignore[arg-type,return-value]


# -- guards --------------------------------------------------------------------------------
def test_a_next_link_seen_before_fails_instead_of_looping() -> None:
    api = FakeApi(same_next=True)
    with pytest.raises(PaginationError, match=r"Page 2's next link at 'next' asks for page 2 again"):
        pull(api, NextLinkPagination("next"), "/next")
    assert len(api.requests) == 2


def test_a_cursor_handed_out_twice_fails() -> None:
    with pytest.raises(PaginationError, match=r"cursor at 'data.cursor' asks for page 2 again"):
        pull(
            FakeApi(same_next=True),
            CursorPagination("data.cursor", cursor_param="after"),
            "/cursor",
            "data.items",
        )


def test_identical_pages_fail_even_with_fresh_parameters() -> None:
    api = FakeApi(ignore_position=True)
    with pytest.raises(
        PaginationError, match=r"Page 2 has exactly the records of page 1 .* ignore the page number"
    ):
        pull(api, PageNumberPagination(5), "/pages")
    assert len(api.requests) == 2


def test_identical_pages_fail_when_fetched_concurrently_too() -> None:
    with pytest.raises(PaginationError, match="Page 2 has exactly the records of page 1"):
        pull(
            FakeApi(ignore_position=True),
            OffsetPagination(5, total_path="meta.total"),
            "/offset",
            max_concurrency=3,
        )


def test_max_pages_stops_a_pagination_that_never_ends() -> None:
    api = FakeApi(count=10**9)
    with pytest.raises(PaginationError, match=r"Still more pages after max_pages=7"):
        pull(api, NextLinkPagination("next"), "/next", max_pages=7)
    assert len(api.requests) == 7


def test_max_pages_refuses_a_plan_before_fetching_it() -> None:
    api = FakeApi()
    with pytest.raises(PaginationError, match=r"says 23 records: 5 pages of 5, more than max_pages=3"):
        pull(api, OffsetPagination(5, total_path="meta.total"), "/offset", max_pages=3)
    assert len(api.requests) == 1


def test_a_next_link_off_the_host_is_never_followed() -> None:
    api = FakeApi(next_link="https://evil.example.net/steal?after=5")
    with pytest.raises(UnsafeUrlError) as info:
        pull(api, NextLinkPagination("next"), "/next")
    message = str(info.value)
    assert message.startswith(
        "Page 1's next link at 'next' leads off the API's host, so page 2 was not fetched"
    )
    assert "https://evil.example.net" in message
    assert "only https://api.example.se" in message
    assert info.value.url == "https://evil.example.net/steal"
    assert [url.host for url in api.requests] == ["api.example.se"]


def test_unexpected_shapes_are_named() -> None:
    with pytest.raises(PaginationError, match=r"has no records at 'data'; it has \['items', 'next'\]"):
        pull(FakeApi(), NextLinkPagination(), "/next", records_path="data")
    with pytest.raises(PaginationError, match=r"has a str at 'next', where a list of records"):
        pull(FakeApi(), NextLinkPagination(), "/next", records_path="next")
    with pytest.raises(
        PaginationError, match=r"Page 1 from https://api.example.se/hsainfo/v1/text is not JSON"
    ):
        pull(FakeApi(), NextLinkPagination(), "/text")
    with pytest.raises(
        PaginationError, match=r"Page 1 has no total at 'total' \(it has \['items', 'meta'\]\)"
    ):
        pull(FakeApi(), OffsetPagination(5, total_path="total"), "/offset")
    with pytest.raises(PaginationError, match=r"has (list|RawRecords) .* at 'items', where a next link"):
        pull(FakeApi(), NextLinkPagination("items"), "/next")


def test_a_total_that_does_not_match_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    api = FakeApi()
    original = api.page
    api.page = lambda start, size: [r for r in original(start, size) if r["id"] != 7]  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="airflow_provider_rh.pagination._pager"):
        pages = pull(api, PageNumberPagination(5, total_path="totalCount"), "/pages")
    assert len(ids(pages)) == COUNT - 1
    assert "The API said 23 records but served 22" in caplog.text


# -- concurrency ---------------------------------------------------------------------------
def test_concurrent_pages_come_out_in_order_with_bounded_requests_in_flight() -> None:
    api = FakeApi(count=100)
    in_flight, most = 0, 0
    started = 0
    lock = threading.Condition()
    served = api.__call__

    def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most, started
        page = int(request.url.params.get("page", 1))
        with lock:
            in_flight += 1
            started += 1
            most = max(most, in_flight)
            lock.notify_all()
            if page == 2:  # the first page fetched ahead answers only once another is in flight
                assert lock.wait_for(lambda: in_flight >= 2, timeout=60)  # a safety bound
        # Earlier pages answer later, so completion order is the reverse of page order.
        time.sleep(0.002 * (20 - page % 20))
        try:
            return served(request)
        finally:
            with lock:
                in_flight -= 1

    client = httpx.Client(transport=httpx.MockTransport(slow))
    pager = Pager(
        PageNumberPagination(5, total_path="totalCount"),
        lambda r: client.get(resolve_url(BASE, r.url), params=r.params),
        records_path="items",
        max_concurrency=4,
    )
    numbers = []
    for consumed, page in enumerate(pager.pages("/pages"), start=1):
        with lock:
            # Never more than max_concurrency pages fetched ahead of the writer.
            assert started <= consumed + 4
        numbers.append(page.number)
        time.sleep(0.001)
    assert numbers == list(range(1, 21))
    assert most <= 4
    assert most > 1


def test_an_error_in_a_concurrent_page_stops_the_pull() -> None:
    api = FakeApi(count=100)
    served = api.__call__

    def failing(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "7":
            raise httpx.ConnectError("boom", request=request)
        return served(request)

    client = httpx.Client(transport=httpx.MockTransport(failing))
    pager = Pager(
        PageNumberPagination(5, total_path="totalCount"),
        lambda r: client.get(resolve_url(BASE, r.url), params=r.params),
        records_path="items",
        max_concurrency=3,
    )
    pages = pager.pages("/pages")
    assert [next(pages).number for _ in range(6)] == [1, 2, 3, 4, 5, 6]
    with pytest.raises(httpx.ConnectError):
        next(pages)


# -- strategies are plain values -----------------------------------------------------------
def next_after(page: Page) -> None:
    return None


STRATEGIES = [
    NextLinkPagination("@odata.nextLink"),
    LinkHeaderPagination(),
    CursorPagination("meta.cursor", cursor_param="after"),
    OffsetPagination(50, total_path=["meta", "total"]),
    PageNumberPagination(25, total_path="totalCount", first_page=0),
    CallablePagination(next_after),
]


@pytest.mark.parametrize("strategy", STRATEGIES, ids=repr)
def test_strategies_copy_pickle_and_compare_by_value(strategy: Any) -> None:
    assert copy.deepcopy(strategy) == strategy
    assert pickle.loads(pickle.dumps(strategy)) == strategy  # noqa: S301 - our own bytes
    assert not callable(strategy)  # Airflow would serialise a callable as its source code


def test_reprs_read_like_the_code_that_made_them() -> None:
    assert [repr(s) for s in STRATEGIES] == [
        "NextLinkPagination(next_path='@odata.nextLink')",
        "LinkHeaderPagination(rel='next')",
        "CursorPagination(cursor_path='meta.cursor', cursor_param='after')",
        "OffsetPagination(limit=50, offset_param='offset', limit_param='limit', "
        "total_path=['meta', 'total'], start=0)",
        "PageNumberPagination(page_size=25, page_param='page', size_param='pageSize', "
        "total_path='totalCount', total_pages_path=None, first_page=0)",
        "CallablePagination(fn=tests.test_pagination.next_after)",
    ]


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: OffsetPagination(0), "limit"),
        (lambda: OffsetPagination(10, start=-1), "start"),
        (lambda: PageNumberPagination(True), "page_size"),  # type: ignore[arg-type]
        (lambda: PageNumberPagination(10, total_path="a", total_pages_path="b"), "total_path"),
        (lambda: CursorPagination(cursor_param=""), "cursor_param"),
        (lambda: CallablePagination("not a function"), "fn"),  # type: ignore[arg-type]
        (lambda: Pager(LinkHeaderPagination(), lambda r: None, max_concurrency=0), "max_concurrency"),  # type: ignore[arg-type,return-value]
    ],
)
def test_bad_arguments_are_configuration_errors(make: Any, field: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        make()
    assert info.value.field == field
