"""Strategies that count their way through: offset/limit and page numbers.

Without a total they go on until an empty page. With a total (``total_path``) the first page
tells how many pages follow, which lets the pager fetch them concurrently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_rh.exceptions import ConfigurationError, PaginationError
from airflow_provider_rh.pagination._base import (
    Page,
    PageRequest,
    Pagination,
    Plan,
    non_empty_str,
    positive_int,
)
from airflow_provider_rh.pagination._paths import KeyPath, check_key_path, describe, lookup

#: Digits a total may have: more than any API counts (10**18 records), few enough that ``int``
#: never meets Python's limit on long digit strings.
_MAX_TOTAL_DIGITS = 18


def _count(page: Page, path: KeyPath, what: str) -> int:
    """The whole number at ``path`` of ``page``, or a PaginationError naming the page and path.

    Accepted: a JSON integer >= 0, or a string of ASCII digits (``"1234"``). Refused: booleans,
    negatives, fractions, ``1e400``, other digits (``"²"``, ``"١٢"``) and overlong strings.
    """
    found, value = lookup(page.body, path)
    if not found:
        keys = sorted(page.body) if isinstance(page.body, Mapping) else type(page.body).__name__
        raise PaginationError(
            f"Page {page.number} has no {what} at {describe(path)} (it has {_shorten(keys)}); fix the "
            f"pagination's {what} path, or leave it out to page until an empty page."
        )
    count = _whole_number(value)
    if count is None:
        raise PaginationError(
            f"Page {page.number} has {_shorten(value)} at {describe(path)}, where the {what} (a whole "
            "number, at least 0) was expected; fix the pagination's "
            f"{what} path, or leave it out to page until an empty page."
        )
    return count


def _whole_number(value: Any) -> int | None:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= _MAX_TOTAL_DIGITS:
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _shorten(value: Any, limit: int = 100) -> str:
    """``repr(value)`` cut to ``limit`` characters: a server's value, shown, not echoed whole."""
    if isinstance(value, str) and len(value) > limit:
        value = value[:limit]  # before repr: a long string is not rendered whole first
    text = repr(value) if not isinstance(value, list) else repr(value[:20])
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _same_count(first: int, path: KeyPath, what: str) -> Callable[[Page], None]:
    """A check that every later page that states the count states ``first`` too.

    Pages counted from page 1's total skip or repeat records when records come or go while
    paging; a changed count on a later page is the sign, and it fails the pull instead of
    landing what page 1's count covered. A page without the count is taken as it comes.
    """

    def check(page: Page) -> None:
        found, _ = lookup(page.body, path)
        if not found:
            return
        count = _count(page, path, what)
        if count != first:
            raise PaginationError(
                f"Page {page.number} says the {what} at {describe(path)} is {count}, but page 1 said "
                f"{first}: records were added or removed while paging, so pages counted from page 1 "
                "would skip or repeat records. Nothing was landed; run the task again (or page "
                f"without the {what} path, until an empty page)."
            )

    return check


def _path(value: KeyPath | None, name: str) -> KeyPath | None:
    check_key_path(value, name=name)
    return value if value is None or isinstance(value, str) else list(value)


class OffsetPagination(Pagination):
    """``offset``/``limit`` paging; with ``total_path`` the pages can be fetched concurrently.

    Without a total, the offset moves on by the records actually served (a server that caps
    ``limit`` loses nothing) until an empty page.

    .. code-block:: python

        OffsetPagination(limit=100, total_path="total")  # {"items": [...], "total": 1234}
    """

    @property
    def pointer(self) -> str:
        return f"offset ({self.offset_param!r})"

    def __init__(
        self,
        limit: int = 100,
        *,
        offset_param: str = "offset",
        limit_param: str = "limit",
        total_path: KeyPath | None = None,
        start: int = 0,
    ) -> None:
        self.limit = positive_int(limit, name="limit")
        self.offset_param = non_empty_str(offset_param, name="offset_param")
        self.limit_param = non_empty_str(limit_param, name="limit_param")
        self.total_path = _path(total_path, "total_path")
        self.start = positive_int(start, name="start", minimum=0)

    def _request(self, url: str, params: Mapping[str, Any] | None, offset: int) -> PageRequest:
        return PageRequest(url, {**(params or {}), self.offset_param: offset, self.limit_param: self.limit})

    def first(self, path: str, params: Mapping[str, Any] | None) -> PageRequest:
        return self._request(path, params, self.start)

    def next(self, page: Page) -> PageRequest | None:
        if not page.records:
            return None
        offset = int((page.request.params or {}).get(self.offset_param, self.start)) + len(page.records)
        if self.total_path is not None and offset >= _count(page, self.total_path, "total"):
            return None
        return self._request(page.request.url, page.request.params, offset)

    def plan(self, first: Page) -> Plan | None:
        if self.total_path is None:
            return None
        total = _count(first, self.total_path, "total")
        pages = max(1, -(-(total - self.start) // self.limit))  # integers: exact for any total
        url, params = first.request.url, first.request.params

        def request(index: int) -> PageRequest:
            return self._request(url, params, self.start + (index + 1) * self.limit)

        return Plan(
            pages=pages - 1,
            total=total,
            page_size=self.limit,
            request=request,
            check=_same_count(total, self.total_path, "total"),
        )


class PageNumberPagination(Pagination):
    """Numbered pages (1-based by default); with a total the pages can be fetched concurrently.

    ``total_path`` points at the number of records, ``total_pages_path`` at the number of pages;
    with neither, pages are asked for until an empty one. ``page_size=None`` sends no size and
    takes the server's (learned from the first page).

    .. code-block:: python

        PageNumberPagination(page_size=100, total_path="totalCount")  # ?page=2&pageSize=100
    """

    @property
    def pointer(self) -> str:
        return f"page number ({self.page_param!r})"

    def __init__(
        self,
        page_size: int | None = 100,
        *,
        page_param: str = "page",
        size_param: str | None = "pageSize",
        total_path: KeyPath | None = None,
        total_pages_path: KeyPath | None = None,
        first_page: int = 1,
    ) -> None:
        self.page_size = None if page_size is None else positive_int(page_size, name="page_size")
        self.page_param = non_empty_str(page_param, name="page_param")
        self.size_param = None if size_param is None else non_empty_str(size_param, name="size_param")
        self.total_path = _path(total_path, "total_path")
        self.total_pages_path = _path(total_pages_path, "total_pages_path")
        self.first_page = positive_int(first_page, name="first_page", minimum=0)
        if total_path is not None and total_pages_path is not None:
            raise ConfigurationError(
                "Give total_path (records) or total_pages_path (pages), not both.", field="total_path"
            )

    def _request(self, url: str, params: Mapping[str, Any] | None, number: int) -> PageRequest:
        query = {**(params or {}), self.page_param: number}
        if self.page_size is not None and self.size_param is not None:
            query[self.size_param] = self.page_size
        return PageRequest(url, query)

    def first(self, path: str, params: Mapping[str, Any] | None) -> PageRequest:
        return self._request(path, params, self.first_page)

    def next(self, page: Page) -> PageRequest | None:
        if not page.records:
            return None
        number = int((page.request.params or {}).get(self.page_param, self.first_page))
        return self._request(page.request.url, page.request.params, number + 1)

    def plan(self, first: Page) -> Plan | None:
        size = self.page_size or len(first.records)
        if self.total_pages_path is not None:
            pages = _count(first, self.total_pages_path, "number of pages")
            total = None
            check = _same_count(pages, self.total_pages_path, "number of pages")
        elif self.total_path is not None:
            total = _count(first, self.total_path, "total")
            pages = -(-total // size) if size else 0  # integers: exact for any total
            check = _same_count(total, self.total_path, "total")
        else:
            return None
        url, params = first.request.url, first.request.params

        def request(index: int) -> PageRequest:
            return self._request(url, params, self.first_page + index + 1)

        return Plan(pages=max(0, pages - 1), total=total, page_size=size, request=request, check=check)
