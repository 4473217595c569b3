"""What every pagination strategy shares: the request for a page, the page, the plan.

A strategy is a small object with plain attributes and a readable ``repr`` (operators holding
one are copied and serialised when Airflow parses a DAG). It decides, from one page, which
request comes next; :class:`~airflow_provider_rh.pagination._pager.Pager` does the fetching and
the guarding (repeats, ``max_pages``, concurrency).
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from airflow_provider_rh.exceptions import ConfigurationError


@dataclass(frozen=True)
class PageRequest:
    """One page to fetch: a path (relative to the API base URL) or an absolute same-origin URL.

    ``params`` is the query; a next link already carries its query, so it comes with none.
    ``method``, ``json`` and ``data`` are the HTTP method and body (a POST search); see
    :class:`~airflow_provider_rh.pagination.InBody` for paging in the body.
    """

    url: str
    params: Mapping[str, Any] | None = None
    method: str = "GET"
    json: Any = None
    data: Mapping[str, Any] | None = None

    def key(self) -> tuple[Any, ...]:
        """Identity of the request, for noticing one asked twice."""
        params = tuple(sorted((str(k), str(v)) for k, v in (self.params or {}).items()))
        if self.method == "GET" and self.json is None and self.data is None:
            return self.url, params
        body = jsonlib.dumps([self.json, self.data], sort_keys=True, separators=(",", ":"), default=str)
        return self.url, params, self.method, body


@dataclass(frozen=True)
class Page:
    """A fetched page: its 1-based number, the request, the absolute URL, headers and body.

    ``size`` is the body's length in bytes, as it came over the wire.
    """

    number: int
    request: PageRequest
    url: str
    headers: Mapping[str, str]
    body: Any = field(repr=False)
    records: Sequence[Any] = field(repr=False)
    size: int = 0

    def resolve(self, link: str) -> str:
        """A link from this page made absolute (relative links are relative to this page)."""
        return urljoin(self.url, link)


@dataclass(frozen=True)
class Plan:
    """The pages after the first, when the first page says how many there are.

    ``request(i)`` builds the request for the ``i``-th remaining page (0-based). Every page but
    the last must then hold ``page_size`` records; a server that serves fewer caps the page
    size, and a plan built on the requested size would skip records. ``check``, if given, sees
    every later page and raises when it contradicts the plan (a total that changed).
    """

    pages: int
    total: int | None
    page_size: int
    request: Callable[[int], PageRequest] = field(repr=False)
    check: Callable[[Page], None] | None = field(default=None, repr=False)


class Pagination:
    """Base class of the strategies: how to ask for the first page and the ones after it."""

    @property
    def pointer(self) -> str:
        """What leads from one page to the next, as error messages name it."""
        return "next request"

    def first(self, path: str, params: Mapping[str, Any] | None) -> PageRequest:
        """The request for the first page."""
        return PageRequest(path, dict(params or {}))

    def next(self, page: Page) -> PageRequest | None:
        """The request after ``page``, or ``None`` when ``page`` was the last."""
        raise NotImplementedError

    def plan(self, first: Page) -> Plan | None:
        """All the remaining pages at once, if the first page tells how many (else ``None``).

        A plan lets pages be fetched concurrently; strategies that follow a pointer cannot plan.
        """
        return None

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self._repr_fields())
        return f"{type(self).__name__}({args})"

    def _repr_fields(self) -> list[tuple[str, Any]]:
        return list(vars(self).items())

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))


def positive_int(value: Any, *, name: str, minimum: int = 1) -> int:
    """``value`` as an int of at least ``minimum``, or a ConfigurationError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"{name} must be an integer >= {minimum}, got {value!r}.", field=name)
    return value


def non_empty_str(value: Any, *, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{name} must be a non-empty string, got {value!r}.", field=name)
    return value
