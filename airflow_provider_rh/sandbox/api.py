"""The sample ``hsainfo`` API: the same records behind six pagination styles.

Every list route filters on ``updatedSince`` (inclusive) and ``updatedBefore`` (exclusive) and
serves records in id order; links are absolute and use the scheme, host and port the client
called, with every query parameter kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_rh.sandbox import data
from airflow_provider_rh.sandbox.params import (
    BadParameter,
    bool_param,
    cursor_param,
    encode_cursor,
    int_param,
    time_param,
    with_params,
)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
Endpoint = Callable[[Request], Awaitable[Response]]


class HsaInfoApi:
    """``count`` records made by :func:`.data.unit` with ``epoch`` and ``step``."""

    def __init__(self, *, count: int, epoch: dt.datetime, step: dt.timedelta) -> None:
        self.count = count
        self.epoch = epoch
        self.step = step

    def app(self) -> Starlette:
        """The API as an ASGI app, to mount under its base path."""
        routes = [
            Route("/health", self.health),
            Route("/units", _handles_bad_params(self.next_in_body)),
            Route("/units/link", _handles_bad_params(self.link_header)),
            Route("/units/cursor", _handles_bad_params(self.cursor)),
            Route("/units/offset", _handles_bad_params(self.offset)),
            Route("/units/pages", _handles_bad_params(self.pages)),
            Route("/units/odata", _handles_bad_params(self.odata)),
            Route("/units/{id}", self.one),
        ]
        return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def one(self, request: Request) -> Response:
        raw = request.path_params["id"]
        if not raw.isdigit() or not 1 <= int(raw) <= self.count:
            return JSONResponse({"statusCode": 404, "message": f"Unit {raw} not found."}, 404)
        return JSONResponse(self._record(int(raw)))

    async def next_in_body(self, request: Request) -> Response:
        """``{"items", "next"}``; ``next`` carries ``after=<last id>``."""
        page, more = self._after(request, int_param(request.query_params, "after", default=0, minimum=0))
        next_url = with_params(request.url, {"after": str(page[-1])}) if more else None
        return JSONResponse({"items": self._records(page), "next": next_url})

    async def link_header(self, request: Request) -> Response:
        """A bare JSON array; RFC 8288 ``Link: <url>; rel="next"`` while more remain."""
        page, more = self._after(request, int_param(request.query_params, "after", default=0, minimum=0))
        headers = (
            {"Link": f'<{with_params(request.url, {"after": str(page[-1])})}>; rel="next"'} if more else {}
        )
        return JSONResponse(self._records(page), headers=headers)

    async def cursor(self, request: Request) -> Response:
        """``{"items", "cursor"}``; send the cursor back (with the same filters) for the next page."""
        page, more = self._after(request, cursor_param(request.query_params, "cursor"))
        return JSONResponse(
            {"items": self._records(page), "cursor": encode_cursor(page[-1]) if more else None}
        )

    async def offset(self, request: Request) -> Response:
        """``{"items", "total"}``; ``count=false`` leaves ``total`` out."""
        query = request.query_params
        start = int_param(query, "offset", default=0, minimum=0)
        window = self._window(request)[start : start + _limit(request, "limit")]
        body: dict[str, Any] = {"items": self._records(window)}
        if bool_param(query, "count", default=True):
            body["total"] = len(self._window(request))
        return JSONResponse(body)

    async def pages(self, request: Request) -> Response:
        """``{"items", "page", "pageSize", "totalCount"}``, 1-based; ``withTotal=false`` drops the total."""
        query = request.query_params
        number = int_param(query, "page", default=1, minimum=1)
        size = _limit(request, "pageSize")
        window = self._window(request)
        body: dict[str, Any] = {
            "items": self._records(window[(number - 1) * size : number * size]),
            "page": number,
            "pageSize": size,
        }
        if bool_param(query, "withTotal", default=True):
            body["totalCount"] = len(window)
        return JSONResponse(body)

    async def odata(self, request: Request) -> Response:
        """OData style: ``{"value", "@odata.nextLink"}``, the link absent on the last page."""
        after = int_param(request.query_params, "$skiptoken", default=0, minimum=0)
        page, more = self._after(request, after, limit_name="$top")
        body: dict[str, Any] = {"value": self._records(page)}
        if more:
            body["@odata.nextLink"] = with_params(request.url, {"$skiptoken": str(page[-1])})
        return JSONResponse(body)

    def _window(self, request: Request) -> range:
        query = request.query_params
        return data.id_range(
            self.count,
            updated_since=time_param(query, "updatedSince"),
            updated_before=time_param(query, "updatedBefore"),
            epoch=self.epoch,
            step=self.step,
        )

    def _after(self, request: Request, after: int, *, limit_name: str = "limit") -> tuple[range, bool]:
        """The page of ids after ``after`` and whether more follow it."""
        window = self._window(request)
        first = max(window.start, after + 1)
        page = range(first, min(first + _limit(request, limit_name), window.stop))
        return page, len(page) > 0 and page.stop < window.stop

    def _record(self, i: int) -> dict[str, Any]:
        return data.unit(i, epoch=self.epoch, step=self.step)

    def _records(self, ids: range) -> list[dict[str, Any]]:
        return [self._record(i) for i in ids]


def _limit(request: Request, name: str) -> int:
    return int_param(request.query_params, name, default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)


def _handles_bad_params(endpoint: Endpoint) -> Endpoint:
    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except BadParameter as exc:
            return exc.response()

    return wrapped


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "Internal server error"
    return JSONResponse({"statusCode": status, "message": detail}, status)
