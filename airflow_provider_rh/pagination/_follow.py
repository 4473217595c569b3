"""Strategies that follow a pointer the API hands out: a next link, a ``Link`` header, a cursor.

They cannot know how many pages there are, so pages come one after another.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_rh.exceptions import PaginationError
from airflow_provider_rh.pagination._base import Page, PageRequest, Pagination, non_empty_str
from airflow_provider_rh.pagination._paths import KeyPath, check_key_path, describe, find

#: Longest ``Link`` header read: real ones are a few hundred characters; a longer one is refused
#: (it would only cost CPU), its length said and its text not echoed.
MAX_LINK_HEADER_CHARS = 8192
#: Longest next link or cursor followed (the client sends no longer URL either).
MAX_LINK_CHARS = 8192


def _skip_space(value: str, index: int) -> int:
    while index < len(value) and value[index] in " \t":
        index += 1
    return index


def _param(value: str, index: int) -> tuple[str, str, int]:
    """One ``name[=value]`` after a ``;`` at ``index``: the name, the value, where it ended."""
    end = index
    while end < len(value) and value[end] not in ";,=< \t":
        end += 1
    name, index = value[index:end], _skip_space(value, end)
    if index >= len(value) or value[index] != "=":
        return name, "", index
    index = _skip_space(value, index + 1)
    if index < len(value) and value[index] == '"':  # quoted-string, backslash escapes
        chars: list[str] = []
        index += 1
        while index < len(value) and value[index] != '"':
            if value[index] == "\\" and index + 1 < len(value):
                index += 1
            chars.append(value[index])
            index += 1
        return name, "".join(chars), index + 1
    end = index
    while end < len(value) and value[end] not in ";,":
        end += 1
    return name, value[index:end], end


def parse_link_header(value: str) -> list[tuple[str, dict[str, str]]]:
    """``[(url, {param: value})]`` from an RFC 8288 ``Link`` header; param names lower-cased.

    One pass over the text (each character is looked at a bounded number of times), and at most
    :data:`MAX_LINK_HEADER_CHARS` of it: a longer header raises ``PaginationError``.
    """
    if len(value) > MAX_LINK_HEADER_CHARS:
        raise PaginationError(
            f"the Link header is {len(value):,} characters; at most {MAX_LINK_HEADER_CHARS:,} are read"
        )
    links: list[tuple[str, dict[str, str]]] = []
    index = 0
    while True:
        start = value.find("<", index)
        end = value.find(">", start + 1) if start >= 0 else -1
        if end < 0:
            return links
        params: dict[str, str] = {}
        index = _skip_space(value, end + 1)
        while index < len(value) and value[index] == ";":
            name, raw, index = _param(value, _skip_space(value, index + 1))
            if name:
                params.setdefault(name.lower(), raw.strip())
            index = _skip_space(value, index)
        links.append((value[start + 1 : end].strip(), params))


def _checked_link(page: Page, link: str, where: str) -> str:
    if len(link) > MAX_LINK_CHARS:
        raise PaginationError(
            f"Page {page.number}'s {where} is {len(link):,} characters; at most {MAX_LINK_CHARS:,} are "
            f"followed (it starts {link[:60]!r}). The server's pagination is not usable as sent."
        )
    return link


def _link_text(page: Page, value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PaginationError(
            f"Page {page.number} has {type(value).__name__} {_excerpt(value)} at {where}, where a next "
            "link (a URL string) was expected; check the pagination's path."
        )
    return _checked_link(page, value, f"next link at {where}")


def _excerpt(value: Any) -> str:
    """``repr(value)`` cut to 100 characters, without rendering a huge value whole first."""
    if isinstance(value, dict | list) and len(value) > 20:
        return f"<a {type(value).__name__} of {len(value):,} items>"
    text = repr(value) if not isinstance(value, str) or len(value) <= 200 else repr(value[:200])
    return text if len(text) <= 100 else text[:100] + "..."


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
        try:
            links = parse_link_header(header)
        except PaginationError as exc:
            raise PaginationError(
                f"Page {page.number}: {exc}; the server's pagination is not usable."
            ) from None
        for url, params in links:
            if self.rel in params.get("rel", "").lower().split():
                return PageRequest(page.resolve(_checked_link(page, url, self.pointer))) if url else None
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
                f"Page {page.number} has {type(token).__name__} {_excerpt(token)} at "
                f"{describe(self.cursor_path)}, where a cursor (a string or number) was expected."
            )
        if isinstance(token, str):
            _checked_link(page, token, self.pointer)
        return PageRequest(page.request.url, {**(page.request.params or {}), self.cursor_param: token})
