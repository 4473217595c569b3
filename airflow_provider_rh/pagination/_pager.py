"""The paging loop: fetch pages in order, find their records, refuse to loop.

A pagination that repeats a request, serves the same records twice or runs past ``max_pages``
fails with :class:`~airflow_provider_rh.exceptions.PaginationError` instead of looping. When
the first page tells how many pages follow (a :class:`Plan`), up to ``max_concurrency`` of them
are fetched at once, still handed out strictly in page order and never more than
``max_concurrency`` held at a time.

Pages are decoded by :mod:`~airflow_provider_rh.pagination._decode`: the page's structure with
msgspec, its records left as the bytes the server sent (UTF-8; a charset declared in
``Content-Type`` is transcoded first; the standard library reads what msgspec refuses, such as
NaN). A repeat is recognised by a digest of the page's records as JSON lines, taken in the
fetching thread; the lines stay with the records
(:class:`~airflow_provider_rh.core.jsonl.RawRecords`), so an NDJSON writer writes them as they
are.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from typing import Any

import httpx

from airflow_provider_rh.core.jsonl import LinedRecords, RawRecords
from airflow_provider_rh.exceptions import ConfigurationError, PaginationError, UnsafeUrlError
from airflow_provider_rh.pagination._base import Page, PageRequest, Pagination, Plan, positive_int
from airflow_provider_rh.pagination._decode import decode_page
from airflow_provider_rh.pagination._paths import KeyPath, check_key_path, describe, shown_keys

log = logging.getLogger(__name__)

#: Default guard against a pagination that never ends (a million records at 100 a page).
DEFAULT_MAX_PAGES = 10_000

#: Sends one request and returns the answer (the hook's ``request`` in the operator).
Fetch = Callable[[PageRequest], httpx.Response]


class Pager:
    """Pages through an endpoint with a :class:`Pagination`, yielding :class:`Page` objects.

    .. code-block:: python

        pager = Pager(NextLinkPagination("next"), fetch, records_path="items")
        for page in pager.pages("/units", {"updatedSince": "2026-01-01T00:00:00Z"}):
            write(page.records)
    """

    def __init__(
        self,
        pagination: Pagination,
        fetch: Fetch,
        *,
        records_path: KeyPath | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
        max_concurrency: int = 1,
    ) -> None:
        if not isinstance(pagination, Pagination):
            raise ConfigurationError(
                f"pagination must be a strategy such as NextLinkPagination('next'), got {pagination!r}.",
                field="pagination",
            )
        check_key_path(records_path, name="records_path")
        self.pagination = pagination
        self.fetch = fetch
        self.records_path = records_path
        self.max_pages = positive_int(max_pages, name="max_pages")
        self.max_concurrency = positive_int(max_concurrency, name="max_concurrency")

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Page]:
        """The pages of ``path`` with query ``params``, first to last."""
        guard = _Guard(self.pagination, self.max_pages)
        page, digest = self._get(1, self.pagination.first(path, params))
        guard.check(page, digest)
        plan = self.pagination.plan(page)
        if plan is not None:
            yield from self._planned(page, plan, guard)
            return
        if self.max_concurrency > 1:
            log.info(
                "Fetching pages one after another: %r cannot tell how many pages follow, so "
                "max_concurrency=%d does not apply.",
                self.pagination,
                self.max_concurrency,
            )
        while True:
            yield page
            request: PageRequest | None = self.pagination.next(page)
            if request is None:
                return
            guard.before(page.number + 1, request)
            page, digest = self._get(page.number + 1, request)
            guard.check(page, digest)

    def _planned(self, first: Page, plan: Plan, guard: _Guard) -> Iterator[Page]:
        if 1 + plan.pages > self.max_pages:
            raise PaginationError(
                f"The first page says {_total(plan)}: {1 + plan.pages} pages of {plan.page_size}, more "
                f"than max_pages={self.max_pages}. Raise max_pages if that much data is expected, or "
                "narrow the query (a shorter time window)."
            )
        if plan.pages and len(first.records) != plan.page_size:
            # Later short pages may be records deleted meanwhile; a short first page is a cap.
            raise PaginationError(
                f"Page 1 holds {len(first.records)} records where {plan.page_size} were asked for, and "
                f"{plan.pages} more pages follow: the API caps (or ignores) the page size, so pages "
                f"counted from the total would skip records. Ask for at most {len(first.records) or 1} "
                "a page."
            )
        yield first
        records = len(first.records)
        for page, digest in self._fetch_in_order(plan):
            guard.check(page, digest)
            if plan.check is not None:
                plan.check(page)
            records += len(page.records)
            yield page
        if plan.total is not None and records != plan.total:
            log.warning(
                "The API said %d records but served %d: records changed while paging, or its total "
                "is not the number of records.",
                plan.total,
                records,
            )

    def _fetch_in_order(self, plan: Plan) -> Iterator[tuple[Page, bytes]]:
        numbers = iter(range(plan.pages))
        if self.max_concurrency == 1 or plan.pages <= 1:
            for index in numbers:
                yield self._get(index + 2, plan.request(index))
            return
        pending: deque[Future[tuple[Page, bytes]]] = deque()
        try:
            for index in numbers:
                pending.append(self._start(index + 2, plan.request(index)))
                if len(pending) == self.max_concurrency:
                    break
            while pending:
                page = pending.popleft().result()
                upcoming = next(numbers, None)
                if upcoming is not None:
                    pending.append(self._start(upcoming + 2, plan.request(upcoming)))
                yield page
        finally:
            # On an error (or when the consumer stops), no page is started any more, and the ones
            # in flight are abandoned, not waited for: their retries may take minutes. Their
            # threads are daemons, so neither this generator nor the interpreter's exit joins
            # them; the caller closes the HTTP client, which ends their next attempt at once.
            for future in pending:
                future.cancel()

    def _start(self, number: int, request: PageRequest) -> Future[tuple[Page, bytes]]:
        """Fetch page ``number`` in a daemon thread of its own; its outcome in the future."""
        future: Future[tuple[Page, bytes]] = Future()

        def fetch() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = self._get(number, request)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

        threading.Thread(target=fetch, name=f"rh-page-{number}", daemon=True).start()
        return future

    def _get(self, number: int, request: PageRequest) -> tuple[Page, bytes]:
        """Page ``number`` and the digest of its records (in the fetching thread: hashing frees the GIL)."""
        try:
            response = self.fetch(request)
        except UnsafeUrlError as exc:
            if number == 1:
                raise
            raise UnsafeUrlError(
                f"Page {number - 1}'s {self.pagination.pointer} leads off the API's host, so page "
                f"{number} was not fetched. {exc}",
                url=exc.url,
            ) from exc
        shown = str(response.url.copy_with(query=None))
        content = response.content
        kind = response.headers.get("content-type")
        body, records, found = decode_page(content, kind, self.records_path, number=number, source=shown)
        if not found:
            keys = shown_keys(body)
            raise PaginationError(
                f"Page {number} from {shown} has no records at {describe(self.records_path)}; it has "
                f"{keys}. Set records_path to where the records are."
            )
        if not isinstance(records, (RawRecords, LinedRecords)):
            raise PaginationError(
                f"Page {number} from {shown} has a {type(records).__name__} at "
                f"{describe(self.records_path)}, where a list of records was expected; check records_path."
            )
        page = Page(number, request, str(response.url), response.headers, body, records, len(content))
        return page, hashlib.sha256(records.lines).digest()


class _Guard:
    """Remembers requests and page contents, so a loop is noticed on its first repeat."""

    def __init__(self, pagination: Pagination, max_pages: int) -> None:
        self.pagination = pagination
        self.max_pages = max_pages
        # Digests, not the requests and records themselves: the memory stays small per page.
        self.requests: dict[bytes, int] = {}
        self.contents: dict[bytes, int] = {}

    def before(self, number: int, request: PageRequest) -> None:
        if number > self.max_pages:
            raise PaginationError(
                f"Still more pages after max_pages={self.max_pages}: the {self.pagination.pointer} "
                "keeps leading on. Raise max_pages if that much data is expected; otherwise the API "
                "never ends this pagination."
            )
        earlier = self.requests.get(_digest(request.key()))
        if earlier is not None:
            raise PaginationError(
                f"Page {number - 1}'s {self.pagination.pointer} asks for page {earlier} again "
                f"({_shown(request)}); following it would loop forever."
            )

    def check(self, page: Page, digest: bytes) -> None:
        """Remember ``page``; fail if its records (``digest``) are an earlier page's."""
        self.requests.setdefault(_digest(page.request.key()), page.number)
        if not page.records:
            return
        earlier = self.contents.setdefault(digest, page.number)
        if earlier != page.number:
            raise PaginationError(
                f"Page {page.number} has exactly the records of page {earlier} "
                f"({len(page.records)} records): the API seems to ignore the {self.pagination.pointer} "
                f"of {self.pagination!r}; check the pagination's parameter names."
            )


def _digest(value: Any) -> bytes:
    text = json.dumps(value, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _total(plan: Plan) -> str:
    return f"{plan.total} records" if plan.total is not None else f"{1 + plan.pages} pages"


def _shown(request: PageRequest) -> str:
    url = httpx.URL(request.url)
    if request.params:
        url = url.copy_merge_params({str(k): str(v) for k, v in request.params.items()})
    return str(url)
