"""Operator arguments checked by type and range when the DAG is parsed, not after the first page.

``progress_interval="5"`` used to fail only once a page had been pulled, ``headers={"Authorization":
...}`` replaced the bearer token, a resource id with a line break was sent as it was. Each
operator calls :func:`check_arguments` first thing in ``__init__`` with the arguments it was
given; arguments this module does not know are left to the operator. ``bool`` is no number
here (``True`` is not one second). A templated string (``{{ ... }}``) is checked for its type
only: its value exists only when the task runs.

Every refusal is a :class:`~airflow_provider_rh.exceptions.ConfigurationError` whose ``field``
is the argument, saying what was wrong and what to write instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_rh.core import redact
from airflow_provider_rh.core.config import check_resource, check_scopes, is_header_name
from airflow_provider_rh.exceptions import ConfigurationError

#: HTTP methods an operator may call.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

#: Headers an operator's ``headers`` may not set: the provider sets them (``Authorization``) or
#: HTTP does. ``Content-Type`` is allowed here: it describes the caller's own ``json``/``data``.
OPERATOR_RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
    }
)


def templated(value: Any) -> bool:
    """Whether ``value`` is a Jinja template that Airflow renders before the task runs."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _fail(operator: str, name: str, what: str) -> ConfigurationError:
    return ConfigurationError(f"{operator}: argument {name} {what}", field=name)


def _kind(value: Any) -> str:
    return type(value).__name__


def _text(operator: str, name: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip():
        raise _fail(
            operator, name, f"must be a non-empty string, got {_kind(value)} {redact.shown(repr(value), 80)}."
        )
    if not templated(value) and redact.has_control(value):
        raise _fail(
            operator,
            name,
            f"holds a control character ({redact.shown(value, 80)!r}): remove line breaks, tabs and "
            "other invisible characters.",
        )


def _path(operator: str, name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise _fail(
            operator, name, f"must be a string (the path below the API base URL), got {_kind(value)}."
        )
    if not templated(value) and redact.has_control(value):
        raise _fail(
            operator,
            name,
            f"holds a control character ({redact.shown(value, 80)!r}): remove line breaks, tabs and "
            "other invisible characters.",
        )


def _number(operator: str, name: str, value: Any, *, minimum: float, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(
            operator,
            name,
            f"must be a number of seconds, got {_kind(value)} {redact.shown(repr(value), 80)}: write "
            f"it without quotes, e.g. {name}=5.",
        )
    if not math.isfinite(value) or value < minimum or (value == minimum and not allow_zero):
        bound = f"at least {minimum:g}" if allow_zero else f"more than {minimum:g}"
        raise _fail(operator, name, f"must be a finite number {bound}, got {value!r}.")


def _integer(operator: str, name: str, value: Any, *, minimum: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(
            operator,
            name,
            f"must be a whole number of at least {minimum}, got {_kind(value)} "
            f"{redact.shown(repr(value), 80)}.",
        )


def _flag(operator: str, name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise _fail(
            operator, name, f"must be True or False, got {_kind(value)} {redact.shown(repr(value), 80)}."
        )


def _mapping(operator: str, name: str, value: Any) -> None:
    if value is None or templated(value):
        return
    if not isinstance(value, Mapping):
        raise _fail(operator, name, f"must be a dict (or a template), got {_kind(value)}.")
    for key in value:
        if not isinstance(key, str):
            raise _fail(operator, name, f"has a key {redact.shown(repr(key), 80)} that is not a string.")


def _headers(operator: str, name: str, value: Any) -> None:
    _mapping(operator, name, value)
    if value is None or templated(value):
        return
    for header, header_value in value.items():
        if header.lower() in OPERATOR_RESERVED_HEADERS:
            raise _fail(
                operator,
                name,
                f"sets {header}, which the provider or HTTP sets itself (the bearer token, the "
                "connection's host, the body's length): leave it out.",
            )
        if not is_header_name(header):
            raise _fail(
                operator,
                name,
                f"has {redact.shown(header, 80)!r}, which is not an HTTP header name (letters, digits "
                "and - only, as in X-Request-Id).",
            )
        if not isinstance(header_value, str):
            raise _fail(operator, name, f"gives {header} a {_kind(header_value)}: header values are strings.")
        if not templated(header_value) and any(char in header_value for char in "\r\n\0"):
            raise _fail(operator, name, f"gives {header} a value with a line break: remove it.")


def _method(operator: str, name: str, value: Any) -> None:
    if not isinstance(value, str) or value.upper() not in METHODS:
        raise _fail(
            operator,
            name,
            f"must be one of {', '.join(METHODS)}, got {redact.shown(repr(value), 80)}.",
        )


def _resource(operator: str, name: str, value: Any) -> None:
    if value is None or templated(value):
        return
    check_resource(value, name, argument=True)


def _scopes(operator: str, name: str, value: Any) -> None:
    if value is None or templated(value):
        return
    if isinstance(value, list | tuple) and any(templated(item) for item in value):
        return
    if not isinstance(value, str | list | tuple):
        raise _fail(operator, name, f"must be a string or a list of strings, got {_kind(value)}.")
    if isinstance(value, list | tuple) and not all(isinstance(item, str) for item in value):
        raise _fail(operator, name, "must list strings only.")
    check_scopes(value, name, argument=True)


def _callable(operator: str, name: str, value: Any) -> None:
    if value is not None and not callable(value):
        raise _fail(operator, name, f"must be a function, got {_kind(value)}.")


_CHECKS: dict[str, Callable[[str, str, Any], None]] = {
    "path": lambda op, name, value: _path(op, name, value),
    "destination": lambda op, name, value: _text(op, name, value),
    "regionhalland_conn_id": lambda op, name, value: _text(op, name, value),
    "destination_conn_id": lambda op, name, value: _text(op, name, value, optional=True),
    "method": _method,
    "query_params": _mapping,
    "data": _mapping,
    "headers": _headers,
    "resource": _resource,
    "scopes": _scopes,
    "response_filter": _callable,
    "max_xcom_bytes": lambda op, name, value: _integer(op, name, value, minimum=1),
    "max_pages": lambda op, name, value: _integer(op, name, value, minimum=1),
    "max_records_per_file": lambda op, name, value: _integer(op, name, value, minimum=1, optional=True),
    "max_concurrency": lambda op, name, value: _integer(op, name, value, minimum=1),
    "parquet_row_group_size": lambda op, name, value: _integer(op, name, value, minimum=1),
    "gzip_level": lambda op, name, value: _integer(op, name, value, minimum=0),
    "progress_interval": lambda op, name, value: _number(op, name, value, minimum=0, allow_zero=True),
    "allow_empty_interval": _flag,
}


def check_arguments(operator: str, **arguments: Any) -> None:
    """Check each known argument of ``operator`` (its class name) by type and range."""
    for name, value in arguments.items():
        check = _CHECKS.get(name)
        if check is not None:
            check(operator, name, value)
