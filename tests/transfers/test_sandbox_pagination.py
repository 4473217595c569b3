"""Every pagination style of the sandbox's hsainfo API, through the hook, record for record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.pagination import (
    CursorPagination,
    LinkHeaderPagination,
    NextLinkPagination,
    OffsetPagination,
    PageNumberPagination,
    Pager,
    Pagination,
)
from airflow_provider_rh.sandbox import Faults, Sandbox
from airflow_provider_rh.sandbox.data import id_range, unit, units

from .support import UNIT_COUNT, start_sandbox, use_sandbox

pytestmark = pytest.mark.integration

#: (route, strategy, records_path, query): every style, with and without totals. Pages of 30
#: make 9 pages of 250 records, the last one short.
STYLES: list[tuple[str, Pagination, Any, dict[str, Any]]] = [
    ("/units", NextLinkPagination("next"), "items", {"limit": 30}),
    ("/units/link", LinkHeaderPagination(), None, {"limit": 30}),
    ("/units/cursor", CursorPagination("cursor", cursor_param="cursor"), "items", {"limit": 30}),
    ("/units/offset", OffsetPagination(30, total_path="total"), "items", {}),
    ("/units/offset", OffsetPagination(30), "items", {"count": "false"}),
    ("/units/pages", PageNumberPagination(30, total_path="totalCount"), "items", {}),
    ("/units/pages", PageNumberPagination(30), "items", {"withTotal": "false"}),
    ("/units/odata", NextLinkPagination("@odata.nextLink"), "value", {"$top": 30}),
    ("/units/odata", NextLinkPagination(["@odata.nextLink"]), ["value"], {"$top": 30}),
]


def records(
    hook: RegionHallandHook, route: str, strategy: Pagination, records_path: Any, query: Any, **pager: Any
) -> Iterator[dict[str, Any]]:
    fetch = lambda r: hook.request("GET", r.url, params=r.params)  # noqa: E731
    for page in Pager(strategy, fetch, records_path=records_path, **pager).pages(route, query):
        yield from page.records


@pytest.mark.parametrize("max_concurrency", [1, 4])
@pytest.mark.parametrize(("route", "strategy", "records_path", "query"), STYLES, ids=lambda v: repr(v))
def test_every_style_serves_every_record_once_in_order(
    sb: Sandbox, route: str, strategy: Pagination, records_path: Any, query: Any, max_concurrency: int
) -> None:
    hook = RegionHallandHook()
    got = list(records(hook, route, strategy, records_path, query, max_concurrency=max_concurrency))
    assert got == list(units(UNIT_COUNT))


@pytest.mark.parametrize(("route", "strategy", "records_path", "query"), STYLES, ids=lambda v: repr(v))
def test_a_time_window_selects_exactly_its_ids(
    sb: Sandbox, route: str, strategy: Pagination, records_path: Any, query: Any
) -> None:
    since = dt.datetime(2026, 1, 1, 3, tzinfo=dt.timezone.utc)
    before = since + dt.timedelta(hours=7)
    window = {"updatedSince": since.isoformat(), "updatedBefore": before.isoformat(), **query}
    got = [r["id"] for r in records(RegionHallandHook(), route, strategy, records_path, window)]
    assert got == list(id_range(UNIT_COUNT, updated_since=since, updated_before=before))
    assert got == list(range(36, 120))


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    faults = Faults(seed=11, rate_limit_share=0.15, retry_after=0, server_error_share=0.1, drop_share=0.05)
    sb = start_sandbox(tmp_path_factory.mktemp("faulty"), faults=faults)
    try:
        yield sb
    finally:
        sb.stop()


@pytest.mark.parametrize("max_concurrency", [1, 3])
def test_faults_are_ridden_out_without_losing_or_repeating_a_record(
    faulty: Sandbox, monkeypatch: pytest.MonkeyPatch, max_concurrency: int
) -> None:
    use_sandbox(faulty, monkeypatch)
    hook = RegionHallandHook(retry=RetryPolicy(backoff_initial=0.01, backoff_max=0.05, attempts=8))
    got = list(
        records(
            hook,
            "/units/pages",
            PageNumberPagination(10, total_path="totalCount"),
            "items",
            {},
            max_concurrency=max_concurrency,
        )
    )
    assert got == [unit(i) for i in range(1, UNIT_COUNT + 1)]
    assert sum(faulty.stats.faults.values()) > 0
