"""A planned pull trusts page 1's total: a total that changes, or cannot be read, fails the pull."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from airflow_provider_rh.exceptions import PaginationError
from airflow_provider_rh.pagination import OffsetPagination, PageNumberPagination, Pager, PageRequest

BASE = "https://api.example.se/v1"


def pull(
    strategy: Any, totals: list[Any], *, key: str = "total", concurrency: int = 1, size: int = 5
) -> list[Any]:
    """Pull 30 records whose total reads ``totals[page - 1]`` (the last value repeats)."""
    requests: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request.url)
        q = request.url.params
        number = int(q["page"]) if "page" in q else int(q.get("offset", 0)) // size + 1
        items = [{"id": i} for i in range((number - 1) * size + 1, min(30, number * size) + 1)]
        body: dict[str, Any] = {"items": items}
        total = totals[min(number, len(totals)) - 1]
        if isinstance(total, bytes):  # raw JSON text for the total
            return httpx.Response(
                200, content=b'{"items": %s, "%s": %s}' % (json.dumps(items).encode(), key.encode(), total)
            )
        if total is not ...:
            body[key] = total
        return httpx.Response(200, json=body)

    client = httpx.Client(transport=httpx.MockTransport(answer))

    def fetch(request: PageRequest) -> httpx.Response:
        return client.get(BASE + request.url, params=request.params)

    pager = Pager(strategy, fetch, records_path="items", max_concurrency=concurrency)
    return [record["id"] for page in pager.pages("/units") for record in page.records]


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_total_that_grows_between_pages_fails_naming_the_page_and_both_totals(concurrency: int) -> None:
    with pytest.raises(PaginationError) as info:
        pull(OffsetPagination(5, total_path="total"), [30, 30, 31], concurrency=concurrency)
    message = str(info.value)
    assert "Page 3 says the total at 'total' is 31, but page 1 said 30" in message
    assert "Nothing was landed" in message


def test_a_number_of_pages_that_shrinks_fails_too() -> None:
    with pytest.raises(
        PaginationError, match=r"Page 2 says the number of pages at 'pages' is 5, but page 1 said 6"
    ):
        pull(PageNumberPagination(5, total_pages_path="pages"), [6, 5], key="pages")


def test_a_steady_total_or_one_only_on_page_1_lands_every_record() -> None:
    assert pull(PageNumberPagination(5, total_path="total"), [30], concurrency=2) == list(range(1, 31))
    assert pull(PageNumberPagination(5, total_path="total"), [30, ...]) == list(range(1, 31))
    assert pull(OffsetPagination(5, total_path="total"), ["30"]) == list(range(1, 31))


@pytest.mark.parametrize(
    "total",
    [
        "²",
        "١٢",
        "1e400",
        b"1e400",
        b"-0.0",
        b"30.0",
        True,
        False,
        -1,
        "-1",
        2.5,
        "",
        " 30",
        None,
        [30],
        {"n": 30},
        "9" * 5000,
    ],
)
def test_an_unreadable_total_is_a_pagination_error_naming_page_and_path(total: Any) -> None:
    with pytest.raises(PaginationError) as info:
        pull(OffsetPagination(5, total_path="total"), [total])
    message = str(info.value)
    assert message.startswith("Page 1 has ")
    assert "at 'total', where the total (a whole number, at least 0) was expected" in message
    assert len(message) < 400  # a long value is shown cut, not echoed whole


def test_an_unreadable_total_on_a_later_page_names_that_page() -> None:
    with pytest.raises(PaginationError, match=r"^Page 2 has '²' at 'total'"):
        pull(OffsetPagination(5, total_path="total"), [30, "²"], concurrency=2)
