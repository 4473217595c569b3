"""API shapes beyond ``hsainfo``'s GETs: a POST search, an OData collection with delta links.

Both serve one :class:`ShapesStore`, whose records *change*: a test (or a DAG task, through
``POST /shapes/admin/changes``) updates old records and adds new ones, all stamped with one
``modified`` time per change, so incremental pulls have updates to find and records that share
a high-water mark. Nothing here depends on the wall clock: a change is stamped one ``step``
after the latest record unless the caller gives ``at``.

Routes (relative to the API base, behind the gateway like every other route)::

    POST /search/units                {"filter": {"modifiedFrom", "modifiedBefore", "municipalityCodes"},
                                       "paging": {"offset", "limit"}} -> {"results", "total"}
    GET  /odata/Units                 $filter=Modified ge <t> and Modified lt <t>, $top, $skip,
                                      $count=true -> {"value", "@odata.count", "@odata.nextLink"
                                      | "@odata.deltaLink" on the last page}
    GET  /odata/Units/delta           ?$deltatoken=...: what changed since that link was handed out;
                                      410 Gone {"error": {"code": "resyncRequired"}} once expired
    POST /shapes/admin/changes        {"update": [ids], "add": n, "at": iso?, "once": key?}
    POST /shapes/admin/expire-delta-links   every delta link handed out so far expires

Search and OData results are ordered by ``(modified, id)``; delta pages by change then id.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import threading
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_rh.sandbox import data
from airflow_provider_rh.sandbox.config import SandboxConfig
from airflow_provider_rh.sandbox.params import with_params

DEFAULT_TOP = 100
MAX_TOP = 1000
MAX_BODY_BYTES = 64 * 1024
MAX_FILTER_CHARS = 2000
MAX_CHANGE = 10_000
_TIME = "%Y-%m-%dT%H:%M:%SZ"
_CONDITION = re.compile(r"\s*Modified\s+(ge|gt|le|lt|eq)\s+(\S+)\s*", re.IGNORECASE)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


class ShapesStore:
    """The changing records: ids 1..count at first (``modified`` as :func:`.data.updated_at`).

    Thread-safe: tests change it from their own thread while the server reads it.

    .. code-block:: python

        change = sb.shapes.change(update=[3, 7], add=2)  # one stamp for all four records
        sb.shapes.expire_delta_links()
    """

    def __init__(self, count: int, *, epoch: dt.datetime, step: dt.timedelta) -> None:
        self.count = count
        self.epoch = epoch
        self.step = step
        self._lock = threading.Lock()
        self._records: dict[int, dict[str, Any]] | None = None
        self._seqs: dict[int, int] = {}
        self._applied: dict[str, dict[str, Any]] = {}
        self._latest = data.updated_at(count, epoch=epoch, step=step) if count else epoch
        self.seq = 0
        """How many changes were made; a delta link remembers it."""
        self.generation = 0
        """Delta links carry the generation they were handed out in; older ones have expired."""

    @classmethod
    def for_config(cls, config: SandboxConfig) -> ShapesStore:
        return cls(config.unit_count, epoch=config.epoch, step=config.step)

    def _all(self) -> dict[int, dict[str, Any]]:
        if self._records is None:  # made on first use: a sandbox that never serves shapes pays nothing
            self._records = {i: self._initial(i) for i in range(1, self.count + 1)}
            self._seqs = dict.fromkeys(self._records, 0)
        return self._records

    def _initial(self, i: int) -> dict[str, Any]:
        unit = data.unit(i, epoch=self.epoch, step=self.step)
        return {
            "id": i,
            "name": unit["name"],
            "unitType": unit["unitType"],
            "municipalityCode": unit["municipalityCode"],
            "modified": unit["updated"],
            "version": 1,
        }

    def records(self) -> list[dict[str, Any]]:
        """Every record as it is now, by ``(modified, id)`` (copies)."""
        with self._lock:
            found = [dict(r) for r in self._all().values()]
        return sorted(found, key=lambda r: (r["modified"], r["id"]))

    def changed_since(self, seq: int, until: int) -> list[dict[str, Any]]:
        """Records whose last change is after ``seq`` and at or before ``until``, by change, then id."""
        with self._lock:
            records = self._all()
            found = [(s, i) for i, s in self._seqs.items() if seq < s <= until]
            return [dict(records[i]) for _, i in sorted(found)]

    def change(
        self,
        *,
        update: Iterable[int] = (),
        add: int = 0,
        at: dt.datetime | None = None,
        once: str | None = None,
    ) -> dict[str, Any]:
        """Update ``update`` (a new version, ``modified`` = the stamp) and add ``add`` records.

        The stamp is ``at`` (to the second), else one ``step`` after the latest record. Returns
        ``{"seq", "stamp", "updated", "added"}``. A change with a ``once`` key already applied is
        not applied again (its first result is returned): a retried caller changes nothing twice.
        """
        ids = list(update)
        if add < 0 or len(ids) + add > MAX_CHANGE:
            raise ValueError(f"a change updates and adds at most {MAX_CHANGE} records, add >= 0")
        with self._lock:
            if once is not None and once in self._applied:
                return self._applied[once]
            records = self._all()
            missing = [i for i in ids if i not in records]
            if missing:
                raise KeyError(f"no records {missing[:10]}")
            stamp = (at or self._latest + self.step).astimezone(dt.timezone.utc).replace(microsecond=0)
            text = stamp.strftime(_TIME)
            self.seq += 1
            for i in ids:
                records[i] = {**records[i], "modified": text, "version": records[i]["version"] + 1}
                self._seqs[i] = self.seq
            first = max(records, default=0) + 1
            added = list(range(first, first + add))
            for i in added:
                records[i] = {**self._initial_new(i), "modified": text}
                self._seqs[i] = self.seq
            self._latest = max(self._latest, stamp)
            result = {"seq": self.seq, "stamp": text, "updated": ids, "added": added}
            if once is not None:
                self._applied[once] = result
            return result

    def _initial_new(self, i: int) -> dict[str, Any]:
        record = self._initial(i)
        record["name"] = f"Ny enhet {i}"
        return record

    def expire_delta_links(self) -> int:
        """Make every delta link handed out so far answer 410 Gone; returns the new generation."""
        with self._lock:
            self.generation += 1
            return self.generation


class BadRequest(Exception):
    def __init__(self, message: str, *, odata: bool = False) -> None:
        super().__init__(message)
        self.odata = odata

    def response(self) -> JSONResponse:
        if self.odata:
            return JSONResponse({"error": {"code": "BadRequest", "message": str(self)}}, 400)
        return JSONResponse({"statusCode": 400, "error": "invalid_request", "message": str(self)}, 400)


def routes(store: ShapesStore) -> list[Route]:
    """The shapes' routes, to add to the API app."""
    api = _ShapesApi(store)
    return [
        Route("/search/units", _guarded(api.search), methods=["POST"]),
        Route("/odata/Units", _guarded(api.odata)),
        Route("/odata/Units/delta", _guarded(api.delta)),
        Route("/shapes/admin/changes", _guarded(api.admin_changes), methods=["POST"]),
        Route("/shapes/admin/expire-delta-links", _guarded(api.admin_expire), methods=["POST"]),
    ]


def _guarded(endpoint: Any) -> Any:
    async def wrapped(request: Request) -> Response:
        try:
            response: Response = await endpoint(request)
        except BadRequest as exc:
            return exc.response()
        return response

    return wrapped


class _ShapesApi:
    def __init__(self, store: ShapesStore) -> None:
        self.store = store

    async def search(self, request: Request) -> Response:
        body = await _json_body(request)
        flt = _object(body, "filter")
        paging = _object(body, "paging")
        since = _time(flt.get("modifiedFrom"), "filter.modifiedFrom")
        before = _time(flt.get("modifiedBefore"), "filter.modifiedBefore")
        codes = flt.get("municipalityCodes")
        if codes is not None and (not isinstance(codes, list) or not all(isinstance(c, str) for c in codes)):
            raise BadRequest("filter.municipalityCodes must be a list of strings")
        offset = _int(paging.get("offset", 0), "paging.offset", minimum=0, maximum=None)
        limit = _int(paging.get("limit", DEFAULT_TOP), "paging.limit", minimum=1, maximum=MAX_TOP)
        matching = [
            r
            for r in self.store.records()
            if (since is None or r["modified"] >= since)
            and (before is None or r["modified"] < before)
            and (codes is None or r["municipalityCode"] in codes)
        ]
        return JSONResponse({"results": matching[offset : offset + limit], "total": len(matching)})

    async def odata(self, request: Request) -> Response:
        query = request.query_params
        conditions = _odata_filter(query.get("$filter"))
        top = _int(query.get("$top", DEFAULT_TOP), "$top", minimum=1, maximum=MAX_TOP, odata=True)
        skip = _int(query.get("$skip", 0), "$skip", minimum=0, maximum=None, odata=True)
        asof = _int(query.get("$asof", self.store.seq), "$asof", minimum=0, maximum=None, odata=True)
        matching = [r for r in self.store.records() if all(test(r["modified"]) for test in conditions)]
        page = matching[skip : skip + top]
        body: dict[str, Any] = {"@odata.context": "$metadata#Units", "value": [_pascal(r) for r in page]}
        if query.get("$count", "").lower() == "true":
            body["@odata.count"] = len(matching)
        if skip + top < len(matching):
            body["@odata.nextLink"] = with_params(request.url, {"$skip": str(skip + top), "$asof": str(asof)})
        else:
            body["@odata.deltaLink"] = _delta_link(request, asof, self.store.generation)
        return JSONResponse(body)

    async def delta(self, request: Request) -> Response:
        query = request.query_params
        token, generation = _decode_token(query.get("$deltatoken"))
        if generation != self.store.generation:
            message = "The delta link has expired; read the whole collection again for a new one."
            return JSONResponse({"error": {"code": "resyncRequired", "message": message}}, 410)
        top = _int(query.get("$top", DEFAULT_TOP), "$top", minimum=1, maximum=MAX_TOP, odata=True)
        skip = _int(query.get("$skip", 0), "$skip", minimum=0, maximum=None, odata=True)
        asof = _int(query.get("$asof", self.store.seq), "$asof", minimum=0, maximum=None, odata=True)
        changed = self.store.changed_since(token, asof)
        body: dict[str, Any] = {
            "@odata.context": "$metadata#Units/$delta",
            "value": [_pascal(r) for r in changed[skip : skip + top]],
        }
        if skip + top < len(changed):
            body["@odata.nextLink"] = with_params(request.url, {"$skip": str(skip + top), "$asof": str(asof)})
        else:
            body["@odata.deltaLink"] = _delta_link(request, asof, self.store.generation)
        return JSONResponse(body)

    async def admin_changes(self, request: Request) -> Response:
        body = await _json_body(request)
        update = body.get("update", [])
        if not isinstance(update, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in update
        ):
            raise BadRequest("update must be a list of record ids")
        add = _int(body.get("add", 0), "add", minimum=0, maximum=MAX_CHANGE)
        at = body.get("at")
        moment = None if at is None else dt.datetime.fromisoformat(_time(at, "at") or "")
        once = body.get("once")
        if once is not None and (not isinstance(once, str) or not 0 < len(once) <= 200):
            raise BadRequest("once must be a short string")
        try:
            return JSONResponse(self.store.change(update=update, add=add, at=moment, once=once))
        except (KeyError, ValueError) as exc:
            raise BadRequest(str(exc)) from None

    async def admin_expire(self, request: Request) -> Response:
        return JSONResponse({"generation": self.store.expire_delta_links()})


def _pascal(record: dict[str, Any]) -> dict[str, Any]:
    """The record as an ASP.NET OData service names its properties."""
    return {key[:1].upper() + key[1:]: value for key, value in record.items()}


def _delta_link(request: Request, asof: int, generation: int) -> str:
    text = json.dumps({"seq": asof, "gen": generation})
    token = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    base = request.url.replace(query="")
    path = base.path if base.path.endswith("/delta") else base.path + "/delta"
    return with_params(base.replace(path=path), {"$deltatoken": token})


def _decode_token(raw: str | None) -> tuple[int, int]:
    """``(seq, generation)`` from a delta token this service handed out."""
    if not raw or len(raw) > 200:
        raise BadRequest("$deltatoken is missing or not one this service handed out", odata=True)
    try:
        decoded = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        values = (decoded["seq"], decoded["gen"])
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise BadRequest("$deltatoken is not one this service handed out", odata=True) from None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise BadRequest("$deltatoken is not one this service handed out", odata=True)
    return values


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"the body is larger than {MAX_BODY_BYTES} bytes")
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _object(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name, {})
    if not isinstance(value, dict):
        raise BadRequest(f"{name} must be an object")
    return value


def _int(value: Any, name: str, *, minimum: int, maximum: int | None, odata: bool = False) -> int:
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name} must be a whole number, got {value!r}", odata=odata)
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise BadRequest(f"{name} must be {bounds}, got {value}", odata=odata)
    return value


def _time(value: Any, name: str, *, odata: bool = False) -> str | None:
    """An ISO 8601 time with a zone, as the store writes times (UTC, to the second)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise BadRequest(f"{name} must be an ISO 8601 time, got {value!r}", odata=odata)
    text = value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name} is not an ISO 8601 time: {value!r}", odata=odata) from None
    if moment.tzinfo is None:
        raise BadRequest(f"{name} has no time zone: {value!r}; add Z", odata=odata)
    utc = moment.astimezone(dt.timezone.utc)
    return utc.strftime(_TIME)


_COMPARE = {
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
    "eq": lambda a, b: a == b,
}


def _odata_filter(expression: str | None) -> list[Any]:
    """``Modified <op> <time> [and ...]`` as tests on a record's ``modified`` text."""
    if expression is None or not expression.strip():
        return []
    if len(expression) > MAX_FILTER_CHARS:
        raise BadRequest(f"$filter is longer than {MAX_FILTER_CHARS} characters", odata=True)
    tests = []
    for part in _AND.split(expression.strip()):
        match = _CONDITION.fullmatch(part)
        if match is None:
            raise BadRequest(
                f"$filter: cannot read {part!r}; this service filters on 'Modified ge|gt|le|lt|eq <time>' "
                "joined by 'and'",
                odata=True,
            )
        op, raw = match.group(1).lower(), match.group(2)
        moment = _time(raw, "$filter", odata=True)
        compare = _COMPARE[op]
        tests.append(lambda value, c=compare, m=moment: c(value, m))
    return tests
