"""Property tests of reading a page's total: a whole number, or a PaginationError naming page and path."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh.exceptions import PaginationError
from airflow_provider_rh.pagination import OffsetPagination, Page, PageNumberPagination, PageRequest

pytestmark = pytest.mark.fuzz

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=10,
)
TOTALS = JSON | st.from_regex(r"\A[0-9]{1,25}\Z") | st.sampled_from(["²", "١٢", "1e400", "-0", "0x10", "٣"])


def page(body: Any) -> Page:
    records = [{"id": 1}] * 5
    return Page(1, PageRequest("/units", {}), "https://api.example.se/units", {}, body, records)


@given(TOTALS)
@example("²")
@example("9" * 5000)
@example(True)
@example("100000000000000001")  # pages were counted in floating point
@example(3600)
def test_any_total_plans_pages_or_fails_naming_page_and_path(total: Any) -> None:
    for strategy in (
        OffsetPagination(5, total_path="meta.total"),
        PageNumberPagination(5, total_path="meta.total"),
    ):
        try:
            plan = strategy.plan(page({"items": [], "meta": {"total": total}}))
        except PaginationError as exc:
            message = str(exc)
            assert message.startswith("Page 1 has ")
            assert "'meta.total'" in message
            assert len(message) < 500
            continue
        assert plan is not None
        expected = int(total)
        assert not isinstance(total, bool)
        assert expected >= 0
        assert plan.total == expected
        assert plan.pages == max(0, -(-expected // 5) - 1)
        # A later page stating the same total passes; any other number fails naming both.
        assert plan.check is not None
        plan.check(page({"meta": {"total": total}}))
        with pytest.raises(PaginationError, match=f"but page 1 said {expected}"):
            plan.check(page({"meta": {"total": expected + 1}}))
