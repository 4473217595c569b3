"""Pagination by a function, for the API that fits none of the ready-made strategies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from airflow_provider_rh.exceptions import ConfigurationError, PaginationError
from airflow_provider_rh.pagination._base import Page, PageRequest, Pagination

#: What the function returns: the next request, a link to follow, query changes, or None (done).
NextPage: TypeAlias = PageRequest | str | Mapping[str, Any] | None


class CallablePagination(Pagination):
    """Ask ``fn(page)`` for the next page.

    ``fn`` returns ``None`` when ``page`` was the last, a string to follow as a link (relative
    to the page's URL; the connection's host only), a mapping of query parameters to change on
    the previous request, or a :class:`PageRequest`. Define ``fn`` at module level, so the DAG
    file stays importable and the operator copyable.

    .. code-block:: python

        def next_page(page):
            meta = page.body["meta"]
            return {"from": meta["last"]} if meta["more"] else None


        CallablePagination(next_page)
    """

    @property
    def pointer(self) -> str:
        return f"request returned by {_name(self.fn)}"

    def __init__(self, fn: Callable[[Page], NextPage]) -> None:
        if not callable(fn):
            raise ConfigurationError(f"CallablePagination needs a function, got {fn!r}.", field="fn")
        self.fn = fn

    def next(self, page: Page) -> PageRequest | None:
        answer = self.fn(page)
        if answer is None or answer == "":
            return None
        if isinstance(answer, PageRequest):
            return answer
        if isinstance(answer, str):
            return PageRequest(page.resolve(answer))
        if isinstance(answer, Mapping):
            return PageRequest(page.request.url, {**(page.request.params or {}), **answer})
        raise PaginationError(
            f"{_name(self.fn)} returned {type(answer).__name__} {answer!r} for page {page.number}; "
            "return None, a link, a dict of query parameters or a PageRequest."
        )

    def _repr_fields(self) -> list[tuple[str, Any]]:
        return [("fn", _Name(_name(self.fn)))]


class _Name(str):
    def __repr__(self) -> str:
        return str(self)


def _name(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None) or repr(fn)
    return f"{module}.{qualname}" if module else qualname
