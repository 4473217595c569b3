"""The window's less-trodden edges: clashing names, formats, early years, future starts, the trap."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_rh._windowing import check_window_args, describe
from airflow_provider_rh.exceptions import WindowError
from airflow_provider_rh.pagination import CursorPagination, OffsetPagination, PageNumberPagination
from airflow_provider_rh.windows import TimeWindow, compute_window, format_time, interval_references

UTC = dt.timezone.utc
JAN2 = dt.datetime(2026, 1, 2, tzinfo=UTC)


# -- a window parameter that is also the pager's ---------------------------------------------
@pytest.mark.parametrize(
    ("pagination", "attribute"),
    [
        (PageNumberPagination(page_param="since"), "page_param"),
        (PageNumberPagination(size_param="until"), "size_param"),
        (OffsetPagination(offset_param="since"), "offset_param"),
        (CursorPagination(cursor_param="until"), "cursor_param"),
    ],
)
def test_a_window_parameter_named_like_a_pagination_parameter_is_refused(pagination, attribute) -> None:
    with pytest.raises(WindowError) as info:
        check_window_args(TimeWindow("since", "until"), None, pagination=pagination)
    message = str(info.value)
    assert attribute in message
    assert "_param 'since'" in message or "_param 'until'" in message
    assert info.value.field == "window"


def test_distinct_names_pass() -> None:
    check_window_args(TimeWindow("since", "until"), {"x": 1}, pagination=PageNumberPagination())


def test_the_transfer_operator_refuses_the_clash_when_the_dag_is_parsed() -> None:
    from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

    with pytest.raises(WindowError, match="offset_param"):
        RegionHallandApiToStorageOperator(
            task_id="pull",
            path="/units",
            destination="/tmp/x.ndjson",
            pagination=OffsetPagination(offset_param="from"),
            window=TimeWindow("from", "to"),
        )


# -- formats ---------------------------------------------------------------------------------
@pytest.mark.parametrize("result", [None, "", 5, b"2026"])
def test_a_format_callable_that_returns_no_text_is_refused_naming_format(result) -> None:
    window = TimeWindow("since", "until", format=lambda moment: result)
    run = window.compute(interval_start=dt.datetime(2026, 1, 1, tzinfo=UTC), interval_end=JAN2)
    with pytest.raises(WindowError, match="format") as info:
        window.query(run)
    assert info.value.field == "format"


def test_years_before_1000_are_written_with_four_digits() -> None:
    early = dt.datetime(999, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert format_time(early) == "0999-03-04T05:06:07Z"
    assert format_time(dt.datetime(5, 6, 1, tzinfo=UTC), "%Y/%G/%F") == "0005/0005/0005-06-01"
    assert format_time(early, "%%Y %Y") == "%Y 0999"  # an escaped % stays literal


def test_an_early_initial_is_sent_with_a_four_digit_year() -> None:
    window = TimeWindow("since", "until", initial=dt.datetime(900, 1, 1, tzinfo=UTC))
    run = window.compute(interval_start=JAN2, interval_end=JAN2)
    assert window.query(run) == {"since": "0900-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z"}


# -- dates at the ends of the calendar --------------------------------------------------------
def test_a_lookback_before_the_year_1_is_a_window_error_naming_lookback() -> None:
    initial = dt.datetime(1, 1, 2, tzinfo=UTC)
    with pytest.raises(WindowError, match="year 1") as info:
        TimeWindow("since", "until", initial=initial, lookback=dt.timedelta(days=5))
    assert info.value.field == "lookback"
    with pytest.raises(WindowError) as info:
        compute_window(interval_start=JAN2, interval_end=JAN2, initial=initial, lookback=dt.timedelta(days=5))
    assert info.value.field == "lookback"


def test_an_initial_that_leaves_the_calendar_in_utc_is_a_window_error_naming_initial() -> None:
    ahead = dt.timezone(dt.timedelta(hours=5))
    with pytest.raises(WindowError) as info:
        TimeWindow("since", "until", initial=dt.datetime(1, 1, 1, 1, tzinfo=ahead))
    assert info.value.field == "initial"


# -- an empty window says why ------------------------------------------------------------------
def test_a_window_starting_after_its_end_does_not_blame_an_earlier_run() -> None:
    window = TimeWindow("since", "until", initial=dt.datetime(2027, 1, 1, tzinfo=UTC))
    run = window.compute(interval_start=JAN2, interval_end=JAN2)
    assert run.empty
    line = describe(window, run)
    assert "earlier run" not in line
    assert "run before it" not in line
    assert "initial (2027-01-01T00:00:00Z) is not before this run's end" in line


def test_a_window_behind_a_later_run_says_so() -> None:
    window = TimeWindow("since", "until")
    run = window.compute(interval_start=JAN2, interval_end=JAN2, previous_end=JAN2 + dt.timedelta(days=3))
    assert "a run before it already covered this span, up to 2026-01-05T00:00:00Z" in describe(window, run)


# -- the empty-interval trap -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("template", "name"),
    [
        ("{{ ti.dag_run.data_interval_start | ts }}", "data_interval_start"),
        ("{{ task_instance.dag_run.data_interval_end.isoformat() }}", "data_interval_end"),
        ("{{ dag_run['data_interval_start'] }}", "data_interval_start"),
        ("{{ context.dag_run.data_interval_end }}", "data_interval_end"),
        ("{%if data_interval_end%}1{%endif%}", "data_interval_end"),
    ],
)
def test_the_trap_sees_the_interval_at_the_end_of_any_path(template: str, name: str) -> None:
    assert interval_references({"query_params": {"q": template}}) == [("query_params['q']", name)]


@pytest.mark.parametrize(
    "template",
    [
        "{{ prev_data_interval_end_success | ts }}",
        "{{ prev_data_interval_start_success }}",
        "{{ my_data_interval_start }}",
        "{{ data_interval_starts }}",
        "data_interval_start {{ ds }}",
        "{{ data_interval_start",  # never closed: not a template
    ],
)
def test_the_trap_leaves_other_names_alone(template: str) -> None:
    assert interval_references({"path": template}) == []


def test_the_trap_is_linear_on_unclosed_openers() -> None:
    """Many openers that never close: found nothing, after a bounded number of searches."""
    text = "{{ {% " * 50_000 + "data_interval_start"
    assert interval_references({"path": text}) == []
    closed = "{{ x }}" * 20_000 + "{% data_interval_end %}"
    assert interval_references({"path": closed}) == [("path", "data_interval_end")]
