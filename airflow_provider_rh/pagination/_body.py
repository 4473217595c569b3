"""Paging in the request body: a POST search whose offset, page, cursor or limit sits in the JSON.

Any strategy works unchanged: :class:`InBody` lets it compute its query parameters as always,
then moves the ones it names to dotted paths in the JSON body. Every next request is the
previous request's body with only those values replaced, so filters and sort orders in the
body are kept. The pager's repeat guard sees the body (a body that asks again for the same
page is caught), and a plan (a total on the first page) still fetches pages concurrently.

.. code-block:: python

    InBody(
        OffsetPagination(limit=100, total_path="total"),
        {"offset": "paging.offset", "limit": "paging.limit"},
    )
    # POST {"filter": {...}, "paging": {"offset": 200, "limit": 100}}
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

from airflow_provider_rh.exceptions import ConfigurationError
from airflow_provider_rh.pagination._base import Page, PageRequest, Pagination, Plan
from airflow_provider_rh.pagination._paths import KeyPath, check_key_path, lookup

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "QUERY", "SEARCH", "REPORT"})


class InBody(Pagination):
    """Send ``pagination``'s paging parameters in the JSON body at ``paths``, not in the query.

    ``paths`` maps a parameter name the strategy uses (``"offset"``, ``"limit"``, ``"page"``,
    ``"pageSize"``, ``"cursor"``, or whatever ``*_param`` you gave it) to a dotted path in the
    body (``"paging.offset"``) or a list of keys (``["paging", "offset"]``). Parameters not
    named stay in the query.

    The method and the rest of the body come from the operator's ``method`` and ``json``.
    """

    def __init__(self, pagination: Pagination, paths: Mapping[str, KeyPath]) -> None:
        if not isinstance(pagination, Pagination) or isinstance(pagination, InBody):
            raise ConfigurationError(
                f"InBody wraps a strategy such as OffsetPagination(...), got {pagination!r}.",
                field="pagination",
            )
        if not isinstance(paths, Mapping) or not paths:
            raise ConfigurationError(
                "InBody needs the paths of the paging parameters in the body, e.g. "
                "{'offset': 'paging.offset', 'limit': 'paging.limit'}.",
                field="paths",
            )
        normalized: dict[str, list[str]] = {}
        for name, path in paths.items():
            check_key_path(path, name=f"paths[{name!r}]")
            keys = path.split(".") if isinstance(path, str) else list(path)
            if not isinstance(name, str) or not name or not keys or not all(keys):
                raise ConfigurationError(
                    f"paths[{name!r}] = {path!r}: give a parameter name and a non-empty path.", field="paths"
                )
            normalized[name] = keys
        self.pagination = pagination
        self.paths = normalized
        self._method = "POST"
        self._json: Any = None
        self._data: Mapping[str, Any] | None = None

    @property
    def pointer(self) -> str:
        return f"{self.pagination.pointer}, sent in the request body"

    def bound(self, method: str, json: Any, data: Mapping[str, Any] | None) -> InBody:
        """A copy that sends ``method`` with ``json`` (or form ``data``) as the first body."""
        if self.paths and data is not None:
            raise ConfigurationError(
                "Paging in the body needs a JSON body: pass json=..., not data=... (a form).", field="data"
            )
        if self.paths and json is not None and not isinstance(json, Mapping):
            raise ConfigurationError(
                f"Paging in the body needs json to be an object, got {type(json).__name__}.", field="json"
            )
        twin = copy.copy(self)
        twin._method, twin._json, twin._data = method, json, data
        return twin

    # -- between what the strategy reasons about (query parameters) and what is sent -----------
    def _wire(self, logical: PageRequest, base: Any) -> PageRequest:
        if logical.method != "GET" or logical.json is not None or logical.data is not None:
            base = logical.json  # a CallablePagination that builds its own request
            method, data = logical.method, logical.data
        else:
            method, data = self._method, self._data
        params = dict(logical.params or {})
        body = copy.deepcopy(base)
        moved = {name: params.pop(name) for name in self.paths if name in params}
        if moved:
            body = {} if body is None else body
            for name, value in moved.items():
                _put(body, self.paths[name], value)
        return PageRequest(logical.url, params, method=method, json=body, data=data)

    def _logical(self, request: PageRequest) -> PageRequest:
        params = dict(request.params or {})
        for name, keys in self.paths.items():
            found, value = lookup(request.json, keys)
            if found:
                params[name] = value
        return PageRequest(request.url, params)

    def first(self, path: str, params: Mapping[str, Any] | None) -> PageRequest:
        return self._wire(self.pagination.first(path, params), self._json)

    def next(self, page: Page) -> PageRequest | None:
        logical = dataclasses.replace(page, request=self._logical(page.request))
        following = self.pagination.next(logical)
        return None if following is None else self._wire(following, page.request.json)

    def plan(self, first: Page) -> Plan | None:
        plan = self.pagination.plan(dataclasses.replace(first, request=self._logical(first.request)))
        if plan is None:
            return None
        inner, base = plan.request, first.request.json
        return dataclasses.replace(plan, request=lambda index: self._wire(inner(index), base))

    def _repr_fields(self) -> list[tuple[str, Any]]:
        return [("pagination", self.pagination), ("paths", {k: ".".join(v) for k, v in self.paths.items()})]


def bind_request(
    pagination: Pagination, *, method: str, json: Any, data: Mapping[str, Any] | None
) -> Pagination:
    """``pagination`` sending ``method`` and the body with every page (the operator's arguments).

    A plain GET without a body stays as it is.
    """
    if isinstance(pagination, InBody):
        return pagination.bound(method, json, data)
    if method == "GET" and json is None and data is None:
        return pagination
    carrier = InBody.__new__(InBody)
    carrier.pagination, carrier.paths = pagination, {}
    return carrier.bound(method, json, data)


def check_method(method: Any) -> str:
    """``method`` upper-cased, or a ConfigurationError for one that is not an HTTP method."""
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise ConfigurationError(
            f"method must be one of {', '.join(sorted(METHODS))}, got {method!r}.", field="method"
        )
    return method.upper()


def _put(body: Any, keys: list[str], value: Any) -> None:
    node = body
    for index, key in enumerate(keys[:-1]):
        child = node.setdefault(key, {}) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            raise ConfigurationError(
                f"Cannot put a paging value at {'.'.join(keys)}: {'.'.join(keys[: index + 1])} in the "
                "body is not an object.",
                field="json",
            )
        node = child
    if not isinstance(node, dict):
        raise ConfigurationError("Paging in the body needs json to be an object.", field="json")
    node[keys[-1]] = value
