"""Incremental pulls by a record field (a high-water mark), and by delta links.

Airflow-free. :class:`Incremental` asks each run for the records whose ``field`` is at or
after the largest value the last successful run landed (its *mark*), and :class:`MarkTracker`
finds the new mark while the pages stream by (no second pass). :class:`DeltaLink` starts each
run from the link the last page of the previous run handed out (``@odata.deltaLink``).

Where the state lives is the operator's business: in the run's XCom summary and asset events,
read back from the previous successful run through Airflow, never from a worker's disk.

The boundary, for an API whose filter is inclusive (``updatedSince`` means ``>=``):

- ``key=`` given (the usual case for timestamps): the query asks from the mark *inclusive*;
  a record whose ``field`` equals the mark is dropped when the last run landed the same record
  (same key, same content) at that value. A record that gets the mark's value later (same
  second, after the pull), or changes again within that second, still lands. The keys at the
  mark, each with a digest of the record's content, travel with the mark.
- no ``key``: records whose ``field`` equals the mark are dropped (*exclusive*). Safe only when
  no record can later get the mark's value: a strictly increasing sequence or row version.

Values are compared by what they mean, not as text: ISO 8601 times as instants (any number of
fraction digits, ``Z`` or any offset), numbers and decimal strings as numbers. The mark keeps
the API's own spelling, so the next run sends the API what it wrote. Values of different kinds
(a time and a number, a time with a zone and one without) cannot be ordered and stop the run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from airflow_provider_rh.exceptions import ConfigurationError, RegionHallandError
from airflow_provider_rh.pagination._paths import KeyPath, check_key_path, describe, lookup

__all__ = ["DeltaLink", "Incremental", "IncrementalError", "Mark", "MarkTracker"]

#: Keys kept with a mark (records sharing its value). Past it the mark keeps none and the next
#: run lands every record at the mark again (duplicates, never a loss), with a warning.
MAX_MARK_KEYS = 10_000

#: Longest value parsed as a time or a number; longer strings compare as text.
_MAX_PARSED = 64
_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,12}))?)?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?"
)
_NUMBER = re.compile(r"[+-]?\d{1,40}(?:\.\d{1,40})?")


class IncrementalError(RegionHallandError):
    """A record that cannot be placed against the mark (no such field, an incomparable value)."""


@dataclass(frozen=True)
class Mark:
    """The largest ``field`` value landed, and ``(key, content digest)`` of the records that have it.

    ``overflow``: more records shared the value than :data:`MAX_MARK_KEYS`, so none are kept and
    the next run lands every record at the value again.
    """

    value: Any
    keys: tuple[tuple[Any, str], ...] = ()
    overflow: bool = False

    def as_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"value": self.value, "keys": [list(entry) for entry in self.keys]}
        if self.overflow:
            state["overflow"] = True
        return state


class Incremental:
    """Pull only what changed since the last successful run, by a record field.

    .. code-block:: python

        Incremental("modified", "updatedSince", key="id", initial="2026-01-01T00:00:00Z")
        Incremental("modified", body_path="filter.modifiedFrom", key="id")  # a POST search
        Incremental("Modified", "$filter", expression="Modified ge {mark}", key="Id")  # OData

    :param field: where the value is in a record: a dotted path or a list of keys. ISO 8601
        times compare as instants (``...10:00:00.5Z`` after ``...10:00:00Z``, offsets honoured),
        numbers and decimal strings as numbers, other strings as text.
    :param param: the query parameter that takes the mark (``>=``, as most APIs filter).
    :param body_path: where the mark goes in the JSON body instead (a POST search).
    :param expression: how the mark is written into the parameter; ``{mark}`` is replaced.
    :param initial: the mark of the very first run; without it, the first run asks for
        everything (no parameter).
    :param key: the field that identifies a record (``"id"``); makes the boundary inclusive
        with de-duplication (see the module). Without it the boundary is exclusive.
    """

    def __init__(
        self,
        field: KeyPath,
        param: str | None = None,
        *,
        body_path: KeyPath | None = None,
        expression: str = "{mark}",
        initial: Any = None,
        key: KeyPath | None = None,
    ) -> None:
        check_key_path(field, name="field")
        check_key_path(key, name="key")
        check_key_path(body_path, name="body_path")
        if not field:
            raise ConfigurationError("field must name the record field of the mark.", field="field")
        if (param is None) == (body_path is None):
            raise ConfigurationError(
                "Give the mark one place: param='updatedSince' (the query) or body_path='filter.from' "
                "(the JSON body).",
                field="param",
            )
        if param is not None and (not isinstance(param, str) or not param):
            raise ConfigurationError(f"param must be a query parameter name, got {param!r}.", field="param")
        if not isinstance(expression, str) or "{mark}" not in expression:
            raise ConfigurationError(
                f"expression must contain {{mark}}, got {expression!r}.", field="expression"
            )
        try:
            expression.format(mark="")
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise ConfigurationError(
                f"expression {expression!r} has a placeholder other than {{mark}} ({exc!s}); write a "
                "literal brace as {{ or }}.",
                field="expression",
            ) from None
        if initial is not None:
            try:
                initial = _comparable(initial, "initial")
                _order(initial, "initial")
            except IncrementalError as exc:
                raise ConfigurationError(str(exc), field="initial") from None
        self.field = field if isinstance(field, str) else list(field)
        self.param = param
        self.body_path = body_path if body_path is None or isinstance(body_path, str) else list(body_path)
        self.expression = expression
        self.initial = initial
        self.key = key if key is None or isinstance(key, str) else list(key)

    def start(self, previous: Mapping[str, Any] | None, scope: str | None = None) -> tuple[Mark | None, str]:
        """This run's starting mark and where it came from, from the last run's summary entry.

        ``scope`` names the request the mark belongs to (connection, path, the other parameters):
        a mark another request left (a mapped task's inputs in a new order, a changed filter) is
        not this one's, and starting from it could skip records, so it is not used.
        """
        if (
            previous
            and previous.get("field") == self.field
            and isinstance(previous.get("mark"), Mapping)
            and previous["mark"].get("value") is not None
            and (scope is None or previous.get("scope") in (None, scope))
        ):
            mark = previous["mark"]
            keys = tuple(_entry(entry) for entry in mark.get("keys") or ())
            value = _comparable(mark["value"], "the previous run's mark")
            return Mark(value, keys, overflow=bool(mark.get("overflow"))), "previous run"
        if previous and previous.get("mark") is not None and previous.get("field") == self.field:
            source = "a different request" if previous.get("scope") != scope else "unreadable"
            if self.initial is not None:
                return Mark(self.initial), f"initial (the last run's mark was for {source})"
            return None, f"none (everything; the last run's mark was for {source})"
        if self.initial is not None:
            return Mark(self.initial), "initial"
        return None, "none (everything)"

    def rendered(self, mark: Mark | None) -> str | None:
        """The parameter's value for ``mark`` (``None``: send no parameter)."""
        if mark is None:
            return None
        return self.expression.format(mark=mark.value)

    def tracker(self, start: Mark | None) -> MarkTracker:
        return MarkTracker(self.field, self.key, start)

    def __repr__(self) -> str:
        place = f"{self.param!r}" if self.param is not None else f"body_path={self.body_path!r}"
        extras = "".join(
            f", {name}={value!r}"
            for name, value in (
                ("expression", None if self.expression == "{mark}" else self.expression),
                ("initial", self.initial),
                ("key", self.key),
            )
            if value is not None
        )
        return f"Incremental({self.field!r}, {place}{extras})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash(repr(self))


@dataclass
class MarkTracker:
    """Drops what the last run landed at the mark and finds the new mark, page by page.

    Works on decoded records (dicts); raw JSON bytes are decoded first. ``dropped`` counts the
    records the last run landed at the mark; ``below`` those older than the mark, which an API
    that filters as asked never serves (it ignores the parameter, or a record's time went back).
    """

    field: KeyPath
    key: KeyPath | None
    start: Mark | None
    value: Any = None
    keys: set[tuple[Any, str]] = dataclasses.field(default_factory=set)
    dropped: int = 0
    below: int = 0
    records: int = 0
    overflow: bool = False
    landed_at_start: set[Any] = dataclasses.field(default_factory=set)
    _order: Any = None
    _floor: Any = None
    _name: str = ""

    def __post_init__(self) -> None:
        self._name = describe(self.field)  # for messages: once, not per record
        if self.start is not None:
            self.value = self.start.value
            self._order = self._floor = _order(self.start.value, "the mark")
            self.keys = set(self.start.keys) if self.key is not None else set()
            self.overflow = self.start.overflow
            self.landed_at_start = set(self.keys)

    def filter(self, records: Sequence[Any]) -> Sequence[Any] | None:
        """The records to land, or ``None`` when all of them are (the page is kept as it is)."""
        kept: list[Any] | None = None
        for index, raw in enumerate(records):
            record = _decoded(raw)
            value = self._value(record)
            land = self._place(raw, record, value)
            if not land and kept is None:
                kept = list(records[:index])
            elif land and kept is not None:
                kept.append(raw)
        self.records += len(records) if kept is None else len(kept)
        return kept

    def _place(self, raw: Any, record: Any, value: Any) -> bool:
        """Land the record or not (against the *starting* mark); move the running mark."""
        order = _order(value, self._name)
        if self._order is not None:  # the running mark: the same kind as the floor, if any
            _same_kind(order, self._order, value, self.value, self._name)
        if self._floor is not None and order < self._floor:
            self.below += 1  # the API's filter is coarser than the mark (or it ignores it)
            return False
        at_floor = self._floor is not None and order == self._floor
        above = self._order is None or order > self._order
        level = not above and order == self._order
        identity = self._identity(raw, record) if self.key is not None else None
        if at_floor and identity is None:
            self.dropped += 1  # exclusive: the last run landed everything at the mark
            return False
        if at_floor and not self.start.overflow and identity in self.landed_at_start:  # type: ignore[union-attr]
            self.dropped += 1  # landed by the last run (or earlier in this one)
            return False
        if at_floor and len(self.landed_at_start) < MAX_MARK_KEYS:
            self.landed_at_start.add(identity)
        if above:
            self.value, self._order = value, order
            self.keys = set() if identity is None else {identity}
            self.overflow = False
        elif level and identity is not None and not self.overflow:
            if len(self.keys) >= MAX_MARK_KEYS:
                self.overflow, self.keys = True, set()
            else:
                self.keys.add(identity)
        return True

    def _value(self, record: Any) -> Any:
        found, value = lookup(record, self.field)
        if not found:
            raise IncrementalError(
                f"A record has no {describe(self.field)} to pull incrementally by (it has "
                f"{sorted(map(str, record)) if isinstance(record, Mapping) else type(record).__name__}); "
                "check Incremental(field=...)."
            )
        if value is None:
            raise IncrementalError(
                f"A record's {describe(self.field)} is null, so it cannot be placed against the mark"
                f"{self._which(record)}; pull incrementally by a field every record has a value in."
            )
        return _comparable(value, self._name)

    def _which(self, record: Any) -> str:
        if self.key is None:
            return ""
        found, key = lookup(record, self.key)
        return f" ({describe(self.key)} {key!r})" if found and isinstance(key, str | int) else ""

    def _identity(self, raw: Any, record: Any) -> tuple[Any, str]:
        """The record's key and a digest of its content: the same record served again."""
        found, key = lookup(record, self.key)
        if not found or isinstance(key, dict | list):
            raise IncrementalError(
                f"A record has no {describe(self.key)} (a string or number) to tell records at the mark "
                "apart; check Incremental(key=...)."
            )
        content = bytes(raw) if isinstance(raw, bytes | bytearray | memoryview | msgspec.Raw) else None
        if content is None:
            content = msgspec.json.encode(record)
        return key, hashlib.blake2b(content, digest_size=8).hexdigest()

    def mark(self) -> Mark | None:
        if self.value is None:
            return None
        keys = tuple(sorted(self.keys, key=lambda k: (type(k[0]).__name__, k)))
        return Mark(self.value, keys, overflow=self.overflow)


class DeltaLink:
    """Start each run from the delta link the previous run's last page handed out.

    The first run (and any run after the link expired) reads the whole collection from
    ``path``; its last page carries the link that returns the changes since. An API says a
    link has expired with one of ``expired_statuses`` (410 Gone), or with an error code from
    ``expired_codes`` in its error body (e.g. Microsoft Graph's ``"resyncRequired"``); the
    run then reads everything again and lands that, with a fresh link.

    .. code-block:: python

        DeltaLink("@odata.deltaLink")
    """

    def __init__(
        self,
        link_path: KeyPath = "@odata.deltaLink",
        *,
        expired_statuses: Iterable[int] = (410,),
        expired_codes: Iterable[str] = (),
    ) -> None:
        check_key_path(link_path, name="link_path")
        self.link_path = link_path if isinstance(link_path, str) else list(link_path)
        self.expired_statuses = tuple(expired_statuses)
        self.expired_codes = tuple(expired_codes)
        if not all(isinstance(s, int) and 400 <= s <= 599 for s in self.expired_statuses):
            raise ConfigurationError(
                f"expired_statuses must be HTTP error statuses, got {self.expired_statuses!r}.",
                field="expired_statuses",
            )

    def link(self, body: Any) -> str | None:
        """The delta link in a page's body, if it has one."""
        found, value = lookup(body, self.link_path)
        return value if found and isinstance(value, str) and value else None

    def expired(self, status: int, body_excerpt: str) -> bool:
        if status in self.expired_statuses:
            return True
        return 400 <= status < 500 and any(code and code in body_excerpt for code in self.expired_codes)

    def __repr__(self) -> str:
        return f"DeltaLink({self.link_path!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash(repr(self))


def _entry(entry: Any) -> tuple[Any, str]:
    """A stored ``[key, digest]``; a bare key (no digest) matches no record's content."""
    if isinstance(entry, list | tuple) and len(entry) == 2:
        return entry[0], str(entry[1])
    return entry, ""


def _order(value: Any, name: str) -> tuple[str, Any]:
    """What ``value`` means for ordering: ``(kind, comparable)``; only one kind compares with itself.

    Linear in the value's length, which is bounded before any regular expression runs.
    """
    if isinstance(value, int | float):
        return "number", value
    if len(value) <= _MAX_PARSED:
        time = _TIME.fullmatch(value)
        if time is not None:
            return _instant(time, value, name)
        if _NUMBER.fullmatch(value):
            return "number", Decimal(value)
    return "text", value


def _instant(match: re.Match[str], value: str, name: str) -> tuple[str, Any]:
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    offset = 0
    if zone is not None and zone not in ("Z", "z"):
        numbers = zone[1:].replace(":", "")
        offset = (-1 if zone[0] == "-" else 1) * (int(numbers[:2]) * 60 + int(numbers[2:4] or 0))
    try:
        moment = dt.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
        moment -= dt.timedelta(minutes=offset)
    except (ValueError, OverflowError):
        raise IncrementalError(f"{name}: {value!r} looks like a time but is not a valid one.") from None
    kind = "local time (no zone)" if zone is None else "time with a zone"
    return kind, (moment, (fraction or "").ljust(12, "0"))


def _same_kind(order: tuple[str, Any], other: tuple[str, Any], value: Any, against: Any, name: str) -> None:
    if order[0] != other[0]:
        raise IncrementalError(
            f"A record's {name} is {value!r} (a {order[0]}), which cannot be compared with "
            f"the mark {against!r} (a {other[0]}); the field must always hold the same kind of value."
        )


def _comparable(value: Any, name: str) -> Any:
    if isinstance(value, dt.datetime):
        raise IncrementalError(
            f"{name}: give the mark as the API writes it (e.g. '2026-01-01T00:00:00Z'), not a datetime."
        )
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise IncrementalError(f"{name}: the mark must be a number or a string, got {value!r}.")
    return value


def _decoded(record: Any) -> Any:
    """A record as a dict: raw JSON (bytes, ``msgspec.Raw``) is decoded for inspection only."""
    if isinstance(record, bytes | bytearray | memoryview | msgspec.Raw):
        return msgspec.json.decode(record)
    return record
