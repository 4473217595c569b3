"""How to walk a paginated API: small strategy objects and the loop that drives them.

Airflow-free. Values in a page (records, next link, cursor, total) are found by a dotted path
(``"data.items"``) or a list of keys (``["@odata.nextLink"]``); keys may contain dots.

.. code-block:: python

    from airflow_provider_rh.pagination import NextLinkPagination, OffsetPagination

    NextLinkPagination("next")
    OffsetPagination(limit=100, total_path="total")
"""

from __future__ import annotations

from airflow_provider_rh.pagination._base import Page, PageRequest, Pagination, Plan
from airflow_provider_rh.pagination._body import InBody
from airflow_provider_rh.pagination._counted import OffsetPagination, PageNumberPagination
from airflow_provider_rh.pagination._custom import CallablePagination
from airflow_provider_rh.pagination._follow import (
    CursorPagination,
    LinkHeaderPagination,
    NextLinkPagination,
    parse_link_header,
)
from airflow_provider_rh.pagination._pager import DEFAULT_MAX_PAGES, Pager
from airflow_provider_rh.pagination._paths import KeyPath, find, lookup

__all__ = [
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
