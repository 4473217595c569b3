"""Query parameter parsing for the sample API; a bad value is a 400 that names the parameter."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Mapping
from urllib.parse import urlencode

from starlette.datastructures import URL, QueryParams
from starlette.responses import JSONResponse

_UNENCODED_PLUS = re.compile(r"\d \d{2}(:?\d{2})?$")


class BadParameter(Exception):
    """A query parameter has a value the API does not accept."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message

    def response(self) -> JSONResponse:
        body = {
            "statusCode": 400,
            "error": "invalid_parameter",
            "parameter": self.name,
            "message": f"Invalid query parameter '{self.name}': {self.message}",
        }
        return JSONResponse(body, 400)


def int_param(
    query: QueryParams, name: str, *, default: int, minimum: int, maximum: int | None = None
) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(name, f"{raw!r} is not an integer") from None
    if maximum is not None and not minimum <= value <= maximum:
        raise BadParameter(name, f"must be between {minimum} and {maximum}, got {value}")
    if value < minimum:
        raise BadParameter(name, f"must be at least {minimum}, got {value}")
    return value


def bool_param(query: QueryParams, name: str, *, default: bool) -> bool:
    raw = query.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise BadParameter(name, f"{raw!r} is not true or false")


def time_param(query: QueryParams, name: str) -> dt.datetime | None:
    """An ISO-8601 time with a zone (``Z`` or ``+00:00``), as UTC."""
    raw = query.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if _UNENCODED_PLUS.search(raw):
        raise BadParameter(name, f"{raw!r} has a space before its offset: encode '+' as %2B in a URL")
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter(name, f"{raw!r} is not an ISO-8601 date-time") from None
    if value.tzinfo is None:
        raise BadParameter(name, f"{raw!r} has no time zone; add 'Z' or '+00:00'")
    try:
        return value.astimezone(dt.timezone.utc)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is in the year 0 in UTC
        raise BadParameter(
            name, f"{raw!r} is outside the years 1 to 9999 once converted to UTC (Z)"
        ) from None


def encode_cursor(after: int) -> str:
    """An opaque cursor: base64url JSON of the last id served."""
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


def cursor_param(query: QueryParams, name: str) -> int:
    raw = query.get(name)
    if not raw:
        return 0
    try:
        decoded = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        after = decoded["after"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise BadParameter(name, "not a cursor this API handed out") from None
    if not isinstance(after, int) or after < 0:
        raise BadParameter(name, "not a cursor this API handed out")
    return after


def with_params(url: URL, updates: Mapping[str, str]) -> str:
    """``url`` (absolute, as the client called it) with ``updates`` set and every other parameter kept."""
    pairs = [(k, v) for k, v in QueryParams(url.query).multi_items() if k not in updates]
    pairs.extend(updates.items())
    return str(url.replace(query=urlencode(pairs, safe="$")))
