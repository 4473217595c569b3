"""Strategies that follow a pointer the API hands out: a next link, a ``Link`` header, a cursor.

They cannot know how many pages there are, so pages come one after another.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_provider_rh.exceptions import PaginationError
from airflow_provider_rh.pagination._base import Page, PageRequest, Pagination, non_empty_str
from airflow_provider_rh.pagination._paths import KeyPath, check_key_path, describe, find

# RFC 8288 §3: Link = #link-value; link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
_LINK_VALUE = re.compile(r'<([^>]*)>((?:\s*;\s*[^;,=\s]+(?:\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,]*))?)*)')
_LINK_PARAM = re.compile(r';\s*([^;,=\s]+)(?:\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,]*)))?')


def parse_link_header(value: str) -> list[tuple[str, dict[str, str]]]:
    """``[(url, {param: value})]`` from an RFC 8288 ``Link`` header; param names lower-cased."""
    links = []
    for match in _LINK_VALUE.finditer(value):
        params: dict[str, str] = {}
        for param in _LINK_PARAM.finditer(match.group(2)):
            quoted, bare = param.group(2), param.group(3)
            raw = quoted.replace('\\"', '"') if quoted is not None else (bare or "")
            params.setdefault(param.group(1).lower(), raw.strip())
        links.append((match.group(1).strip(), params))
    return links


def _link_text(page: Page, value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PaginationError(
            f"Page {page.number} has {type(value).__name__} {value!r} at {where}, where a next link "
            "(a URL string) was expected; check the pagination's path."
        )
    return value


class NextLinkPagination(Pagination):
    """Follow a link to the next page found in the body; no link (or null) ends the pull.

    .. code-block:: python

        NextLinkPagination("next")  # {"items": [...], "next": "https://.../units?after=100"}
        NextLinkPagination(["@odata.nextLink"])  # OData; "@odata.nextLink" as a string works too
    """

    def __init__(self, next_path: KeyPath = "next") -> None:
        check_key_path(next_path, name="next_path")
        self.next_path = next_path if isinstance(next_path, str) else list(next_path)

    @property
    def pointer(self) -> str:
        return f"next link at {describe(self.next_path)}"

    def next(self, page: Page) -> PageRequest | None:
        link = _link_text(page, find(page.body, self.next_path), describe(self.next_path))
        return None if link is None else PageRequest(page.resolve(link))


class LinkHeaderPagination(Pagination):
    """Follow the RFC 8288 ``Link: <url>; rel="next"`` header (GitHub style); none ends the pull.

    .. code-block:: python

        LinkHeaderPagination()  # records_path=None when the body is a bare JSON array
    """

    def __init__(self, rel: str = "next") -> None:
        self.rel = non_empty_str(rel, name="rel").lower()

    @property
    def pointer(self) -> str:
        return f'Link header rel="{self.rel}"'

    def next(self, page: Page) -> PageRequest | None:
        header = page.headers.get("link")
        if not header:
            return None
        for url, params in parse_link_header(header):
            if self.rel in params.get("rel", "").lower().split():
                return PageRequest(page.resolve(url)) if url else None
        return None


class CursorPagination(Pagination):
    """Send back the cursor token the page carries, as ``cursor_param``; none ends the pull.

    The other query parameters (filters, limit) are sent again with every cursor.

    .. code-block:: python

        CursorPagination("cursor", cursor_param="cursor")  # {"items": [...], "cursor": "eyJ..."}
    """

    def __init__(self, cursor_path: KeyPath = "cursor", *, cursor_param: str = "cursor") -> None:
        check_key_path(cursor_path, name="cursor_path")
        self.cursor_path = cursor_path if isinstance(cursor_path, str) else list(cursor_path)
        self.cursor_param = non_empty_str(cursor_param, name="cursor_param")

    @property
    def pointer(self) -> str:
        return f"cursor at {describe(self.cursor_path)}"

    def next(self, page: Page) -> PageRequest | None:
        token = find(page.body, self.cursor_path)
        if token is None or token == "":
            return None
        if isinstance(token, bool) or not isinstance(token, str | int):
            raise PaginationError(
                f"Page {page.number} has {type(token).__name__} {token!r} at "
                f"{describe(self.cursor_path)}, where a cursor (a string or number) was expected."
            )
        return PageRequest(page.request.url, {**(page.request.params or {}), self.cursor_param: token})
