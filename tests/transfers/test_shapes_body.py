"""POST with paging in the body: the storage operator against the sandbox's search endpoint.

``execute`` is called with a small context (``test_shapes_airflow.py`` runs real DAG runs).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_rh._windowing import refuse_empty_interval
from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.exceptions import ApiError, ConfigurationError, PaginationError, WindowError
from airflow_provider_rh.filter_window import FilterWindow
from airflow_provider_rh.incremental import DeltaLink, Incremental
from airflow_provider_rh.pagination import (
    CursorPagination,
    InBody,
    NextLinkPagination,
    OffsetPagination,
    Page,
    PageNumberPagination,
    PageRequest,
)
from airflow_provider_rh.pagination._body import bind_request
from airflow_provider_rh.sandbox import Faults, Sandbox
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator
from airflow_provider_rh.windows import Window

from .support import UNIT_COUNT, read_ndjson, start_sandbox, use_sandbox

pytestmark = pytest.mark.integration
PAGING = {"offset": "paging.offset", "limit": "paging.limit"}


def search(destination: Path, **kwargs: Any) -> RegionHallandApiToStorageOperator:
    kwargs.setdefault("pagination", InBody(OffsetPagination(limit=40, total_path="total"), PAGING))
    kwargs.setdefault("json", {"filter": {}})
    kwargs.setdefault("method", "POST")
    return RegionHallandApiToStorageOperator(
        task_id="search",
        path="/search/units",
        records_path="results",
        destination=destination.as_uri(),
        **kwargs,
    )


def test_a_post_search_pages_in_its_body_concurrently_and_keeps_the_filter(
    sb: Sandbox, tmp_path: Path
) -> None:
    records = sb.shapes.records()
    since, before = records[30]["modified"], records[200]["modified"]
    final = tmp_path / "search.ndjson"
    body = {"filter": {"modifiedFrom": since, "modifiedBefore": before}, "sort": "modified"}
    requests_before = sb.stats.api_requests.get("/search/units", 0)
    summary = search(final, json=body, max_concurrency=3).execute({})
    assert read_ndjson(final) == records[30:200]  # in page order, the filter kept on every page
    assert summary["pages"] == 5
    assert sb.stats.api_requests["/search/units"] - requests_before == 5
    assert body == {"filter": {"modifiedFrom": since, "modifiedBefore": before}, "sort": "modified"}


def test_paging_values_at_a_path_the_api_ignores_are_caught_as_a_repeat(sb: Sandbox, tmp_path: Path) -> None:
    wrong = InBody(OffsetPagination(limit=40), {"offset": "page.offset", "limit": "paging.limit"})
    with pytest.raises(PaginationError, match="exactly the records of page 1"):
        search(tmp_path / "x.ndjson", pagination=wrong).execute({})
    assert not (tmp_path / "x.ndjson").exists()


def test_a_read_only_post_is_retried_on_5xx_only_when_declared_idempotent(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = Faults(seed=3, server_error_share=0.3)
    sb = start_sandbox(tmp_path_factory.mktemp("faulty"), faults=faults)
    try:
        use_sandbox(sb, monkeypatch)
        fast = RetryPolicy(attempts=10, sleep=lambda _: None)
        with pytest.raises(ApiError) as refused:
            search(tmp_path / "a.ndjson", http_retry=fast).execute({})
        assert refused.value.status_code >= 500
        summary = search(tmp_path / "b.ndjson", http_retry=fast, idempotent=True).execute({})
        assert summary["retries"] > 0
        assert [r["id"] for r in read_ndjson(tmp_path / "b.ndjson")] == list(range(1, UNIT_COUNT + 1))
    finally:
        sb.stop()


def test_a_body_reading_an_empty_data_interval_is_refused() -> None:
    task = search(
        Path("/tmp/never.ndjson"), json={"filter": {"modifiedFrom": "{{ data_interval_start | ts }}"}}
    )
    moment = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    with pytest.raises(WindowError, match=r"json\['filter'\]\['modifiedFrom'\] reads data_interval_start"):
        refuse_empty_interval(task, {"data_interval_start": moment, "data_interval_end": moment})  # type: ignore[arg-type]


def page(request: PageRequest, body: Any, records: list[Any]) -> Page:
    return Page(1, request, "https://api.example.se/search", {}, body, records)


@pytest.mark.parametrize(
    ("strategy", "paths", "first", "second"),
    [
        (
            PageNumberPagination(page_size=2),
            {"page": "p.number", "pageSize": "p.size"},
            {"q": "x", "p": {"number": 1, "size": 2}},
            {"q": "x", "p": {"number": 2, "size": 2}},
        ),
        (
            CursorPagination("cursor", cursor_param="after"),
            {"after": ["paging", "after"]},
            {"q": "x"},
            {"q": "x", "paging": {"after": "c1"}},
        ),
    ],
)
def test_every_strategy_moves_its_values_into_the_body_and_keeps_the_rest(
    strategy: Any, paths: dict[str, Any], first: dict[str, Any], second: dict[str, Any]
) -> None:
    bound = bind_request(InBody(strategy, paths), method="POST", json={"q": "x"}, data=None)
    request = bound.first("/search", {"api-version": "2"})
    assert (request.method, request.json, request.params) == ("POST", first, {"api-version": "2"})
    following = bound.next(page(request, {"cursor": "c1"}, [{"id": 1}, {"id": 2}]))
    assert following is not None
    assert (following.method, following.json, following.params) == ("POST", second, {"api-version": "2"})
    assert following.key() != request.key()


def test_a_plan_keeps_the_body_and_a_next_link_keeps_method_and_body() -> None:
    bound = bind_request(
        InBody(OffsetPagination(limit=2, total_path="total"), PAGING), method="POST", json={"f": 1}, data=None
    )
    first = bound.first("/s", None)
    plan = bound.plan(page(first, {"total": 5}, [{"id": 1}, {"id": 2}]))
    assert plan is not None
    assert [plan.request(i).json for i in range(plan.pages)] == [
        {"f": 1, "paging": {"offset": 2, "limit": 2}},
        {"f": 1, "paging": {"offset": 4, "limit": 2}},
    ]
    carried = bind_request(NextLinkPagination("next"), method="POST", json={"f": 1}, data=None)
    link = carried.next(page(carried.first("/s", None), {"next": "/s?page=2"}, [{"id": 1}]))
    assert link is not None
    assert (link.url, link.method, link.json) == ("https://api.example.se/s?page=2", "POST", {"f": 1})
    assert bind_request(NextLinkPagination("next"), method="GET", json=None, data=None) == NextLinkPagination(
        "next"
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: InBody(OffsetPagination(), {}),
        lambda: InBody("offset", PAGING),  # type: ignore[arg-type]
        lambda: bind_request(InBody(OffsetPagination(), PAGING), method="POST", json=None, data={"a": "1"}),
        lambda: bind_request(InBody(OffsetPagination(), PAGING), method="POST", json=[1], data=None),
        lambda: InBody(OffsetPagination(), PAGING).bound("POST", {"paging": 3}, None).first("/s", None),
        lambda: search(Path("/tmp/x.ndjson"), method="FETCH"),
        lambda: search(Path("/tmp/x.ndjson"), incremental="modified"),
        lambda: search(Path("/tmp/x.ndjson"), incremental=Incremental("m", "since"), delta=DeltaLink()),
        lambda: search(Path("/tmp/x.ndjson"), incremental=Incremental("m", "since"), do_xcom_push=False),
        lambda: search(Path("/tmp/x.ndjson"), incremental=Incremental("m", "s"), query_params={"s": "1"}),
        lambda: Incremental("m"),
        lambda: Incremental("m", "since", body_path="filter.since"),
        lambda: Incremental("m", "since", expression="no mark"),
        lambda: FilterWindow("$filter", "Modified ge {start}"),
        lambda: FilterWindow("$filter", "Modified ge {start} and Modified lt {end} and {other}"),
    ],
)
def test_mistakes_fail_when_the_dag_is_parsed(make: Any) -> None:
    with pytest.raises(ConfigurationError):
        make()


def test_a_filter_window_renders_one_expression() -> None:
    window = FilterWindow(
        "$filter", "Modified ge {start} and Modified lt {end}", lookback=dt.timedelta(minutes=5)
    )
    run = window.compute(
        interval_start=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc),
        interval_end=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc),
        previous_end=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    )
    assert isinstance(run, Window)
    assert window.query(run) == {
        "$filter": "Modified ge 2025-12-31T23:55:00Z and Modified lt 2026-01-02T00:00:00Z"
    }
    assert repr(window).startswith("FilterWindow('$filter', 'Modified ge {start}")
