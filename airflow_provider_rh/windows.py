"""Incremental time windows ``[start, end)`` for scheduled pulls, under every Airflow 3 timetable.

A cron string (``schedule="@daily"``) gives Airflow 3's ``CronTriggerTimetable``, whose runs have a
data interval of length zero: a query built from ``data_interval_start``/``data_interval_end``
then asks for nothing and lands an empty file every day. A :class:`TimeWindow` computes the span
each run should pull instead (:func:`compute_window`, a pure function):

- a data interval with length (``CronDataIntervalTimetable``, ``DeltaDataIntervalTimetable``,
  ``CronTriggerTimetable(..., interval=...)``): exactly that interval;
- a zero-length interval (plain cron, manual runs, ``airflow dags test``): from where the last
  earlier run that did not fail ended (Airflow's ``prev_data_interval_end_success``, or an
  earlier run still in flight), else ``initial``, else the timetable's previous fire time,
  until the run's data interval end (= its logical date). A failed or skipped day is then
  covered by the next run: no gap, no overlap.

``lookback`` moves every query start back by a margin, so records that arrive late (stamped
before the previous window's end, visible only after it) are still pulled; records stamped in
that margin land twice, once in each of the two windows. See ``docs/windows.md``.

This module never imports Airflow; the Airflow side is :mod:`airflow_provider_rh._windowing`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_rh.exceptions import WindowError

__all__ = [
    "ISO_UTC",
    "TimeWindow",
    "Window",
    "WindowError",
    "compute_window",
    "format_time",
    "interval_references",
]

#: The default time format: ISO 8601 in UTC to the second, e.g. ``2026-01-01T00:00:00Z``.
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"

TimeFormat = str | Callable[[dt.datetime], str]

_ZERO = dt.timedelta(0)

#: Template variables that read the run's data interval. On a zero-length interval each of them
#: is one instant, so a query built from them asks for nothing (or only for what comes later).
#: Matched as a whole name at the end of any attribute or item path (``data_interval_start``,
#: ``dag_run.data_interval_start``, ``ti.dag_run.data_interval_end``, ``dag_run["data_interval_end"]``);
#: ``prev_data_interval_end_success`` is another name (``_`` is a word character), so not matched.
_INTERVAL_NAME = re.compile(r"(?<!\w)data_interval_(start|end)(?!\w)")
#: Openers of Jinja blocks and the closer each one needs.
_JINJA_OPEN = {"{{": "}}", "{%": "%}"}


@dataclass(frozen=True)
class Window:
    """One run's half-open window ``[start, end)`` and where its start came from.

    ``query_start`` is ``start - lookback``: what the query asks for. ``start`` itself is where
    this run's share of the data begins, so ``start``/``end`` partition time without overlap.
    """

    start: dt.datetime
    end: dt.datetime
    source: str
    """``data interval``, ``previous run``, ``initial`` or ``previous fire time``."""
    lookback: dt.timedelta = _ZERO
    wanted_start: dt.datetime | None = None
    """Where the start came from before it was clipped to ``end`` (set only when it was later)."""

    @property
    def query_start(self) -> dt.datetime:
        return self.start - self.lookback

    @property
    def empty(self) -> bool:
        return self.start >= self.end

    def why_empty(self) -> str:
        """Why an empty window is empty, in words that are true for where its start came from."""
        if not self.empty:
            return ""
        wanted = _iso(self.wanted_start) if self.wanted_start is not None else _iso(self.start)
        if self.source == "previous run":
            return f"a run before it already covered this span, up to {wanted}"
        if self.source == "initial":
            return f"initial ({wanted}) is not before this run's end, so there is nothing to pull yet"
        return f"its start ({wanted}, the {self.source}) is not before its end"

    def as_dict(self) -> dict[str, Any]:
        """For XCom and asset events: ISO 8601 UTC strings and seconds."""
        return {
            "start": _iso(self.start),
            "end": _iso(self.end),
            "query_start": _iso(self.query_start),
            "source": self.source,
            "lookback_seconds": self.lookback.total_seconds(),
        }


def compute_window(
    *,
    interval_start: dt.datetime,
    interval_end: dt.datetime,
    previous_end: dt.datetime | None = None,
    previous_fire: dt.datetime | None = None,
    initial: dt.datetime | None = None,
    lookback: dt.timedelta = _ZERO,
) -> Window:
    """The window a run pulls, from plain datetimes (all timezone-aware).

    :param interval_start: the run's ``data_interval_start``.
    :param interval_end: the run's ``data_interval_end``; always the window's end.
    :param previous_end: where the latest earlier run that did not fail ended its window
        (its ``data_interval_end``); used only for a zero-length interval.
    :param previous_fire: the timetable's fire time before ``interval_end``; the start of a
        first zero-length run without ``initial``.
    :param initial: the start of a first zero-length run (no earlier run to follow on from).
    :param lookback: how far each query start is moved back to re-read late records.
    """
    for name, value in (
        ("interval_start", interval_start),
        ("interval_end", interval_end),
        ("previous_end", previous_end),
        ("previous_fire", previous_fire),
        ("initial", initial),
    ):
        if value is not None and value.tzinfo is None:
            raise WindowError(f"{name} must be timezone-aware, got {value!r}", field=name)
    if lookback < _ZERO:
        raise WindowError(f"lookback must not be negative, got {lookback}", field="lookback")
    if interval_end < interval_start:
        raise WindowError(
            f"The data interval ends ({_iso(interval_end)}) before it starts ({_iso(interval_start)}).",
            field="data_interval",
        )
    if interval_start < interval_end:
        return _checked(Window(interval_start, interval_end, "data interval", lookback))
    if previous_end is not None:
        start, source = previous_end, "previous run"
    elif initial is not None:
        start, source = initial, "initial"
    elif previous_fire is not None:
        start, source = previous_fire, "previous fire time"
    else:
        raise WindowError(
            f"This run's data interval is empty (at {_iso(interval_end)}), no earlier run of the DAG "
            "succeeded, and its schedule has no previous fire time to start from (a manual-only or "
            "asset-triggered DAG), so the window has no start. Give one: "
            "TimeWindow(..., initial=datetime(2026, 1, 1, tzinfo=timezone.utc)).",
            field="initial",
        )
    # A window never reaches back past its own end: when an earlier run already covered this
    # span (its window ended later), or ``initial`` is still to come, the window is empty.
    wanted = start if start > interval_end else None
    return _checked(Window(min(start, interval_end), interval_end, source, lookback, wanted))


def _checked(window: Window) -> Window:
    """``window`` if its query start and end can be written in UTC (years 1 to 9999)."""
    try:
        window.query_start.astimezone(dt.timezone.utc)
        window.end.astimezone(dt.timezone.utc)
    except OverflowError:
        raise WindowError(
            f"The window [{window.start!r}, {window.end!r}) with a lookback of {window.lookback} would "
            "start before the year 1 or end after the year 9999 in UTC, which no date can express. "
            "Use a later initial or a shorter lookback.",
            field="lookback" if window.lookback else "initial",
        ) from None
    return window


def format_time(moment: dt.datetime, fmt: TimeFormat = ISO_UTC) -> str:
    """``moment`` in UTC as the API wants it: a ``strftime`` pattern, or a callable.

    ``%Y`` (and ``%G``, ``%F``) always write four digits, also before the year 1000, where the C
    library's ``strftime`` writes ``999``: ISO 8601 needs four, and an API would read ``999``
    as something else or not at all. A callable must return a non-empty string.
    """
    if callable(fmt):
        text = fmt(moment)
        if not isinstance(text, str) or not text:
            raise WindowError(
                f"format {fmt!r} returned {text!r} for {_iso(moment)}, not a non-empty string: the "
                "window's query parameters would be sent empty. Make it return the time as text.",
                field="format",
            )
        return text
    utc = moment.astimezone(dt.timezone.utc)
    return utc.strftime(_STRFTIME_CODE.sub(lambda code: _padded_year(code.group(0), utc), fmt))


#: A ``strftime`` code (``%%`` included, so ``%%Y`` stays a literal ``%Y``).
_STRFTIME_CODE = re.compile(r"%.", re.DOTALL)


def _padded_year(code: str, moment: dt.datetime) -> str:
    if code == "%Y":
        return f"{moment.year:04d}"
    if code == "%G":
        return f"{moment.isocalendar()[0]:04d}"
    if code == "%F":
        return f"{moment.year:04d}-%m-%d"
    return code


class TimeWindow:
    """Put each run's window ``[since, until)`` into the query as ``since_param`` and ``until_param``.

    .. code-block:: python

        RegionHallandApiToStorageOperator(
            task_id="pull_units",
            path="/units",
            window=TimeWindow("updatedSince", "updatedBefore"),
            destination=LANDING + "/units/{{ window_start | ds }}/units.ndjson.gz",
            ...,
        )

    :param since_param: the query parameter of the window start (inclusive).
    :param until_param: the query parameter of the window end (exclusive).
    :param initial: where the very first window starts when the run has no data interval and
        no earlier run to follow on from; without it, the timetable's previous fire time.
    :param lookback: re-read this margin before each window start (late-arriving records);
        records stamped inside the margin land in two consecutive runs.
    :param format: how times are written: a ``strftime`` pattern applied in UTC (default
        ISO 8601 with ``Z``, to the second), or a callable ``datetime -> str``.
    """

    def __init__(
        self,
        since_param: str,
        until_param: str,
        *,
        initial: dt.datetime | None = None,
        lookback: dt.timedelta | None = None,
        format: TimeFormat = ISO_UTC,
    ) -> None:
        for name, value in (("since_param", since_param), ("until_param", until_param)):
            if not isinstance(value, str) or not value:
                raise WindowError(f"{name} must be a non-empty query parameter name, got {value!r}")
        if since_param == until_param:
            raise WindowError(f"since_param and until_param must differ, both are {since_param!r}")
        if initial is not None and initial.tzinfo is None:
            raise WindowError(
                f"initial must be timezone-aware (e.g. tzinfo=timezone.utc), got {initial!r}",
                field="initial",
            )
        if lookback is not None and (not isinstance(lookback, dt.timedelta) or lookback < _ZERO):
            raise WindowError(
                f"lookback must not be negative (a timedelta), got {lookback!r}", field="lookback"
            )
        if initial is not None:
            _checked(Window(initial, initial, "initial", lookback or _ZERO))
        if not callable(format) and (not isinstance(format, str) or "%" not in format):
            raise WindowError(
                f"format must be a strftime pattern (with % codes) or a callable, got {format!r}",
                field="format",
            )
        self.since_param = since_param
        self.until_param = until_param
        self.initial = initial
        self.lookback = lookback or _ZERO
        self.format = format

    def compute(
        self,
        *,
        interval_start: dt.datetime,
        interval_end: dt.datetime,
        previous_end: dt.datetime | None = None,
        previous_fire: dt.datetime | None = None,
    ) -> Window:
        """:func:`compute_window` with this window's ``initial`` and ``lookback``."""
        return compute_window(
            interval_start=interval_start,
            interval_end=interval_end,
            previous_end=previous_end,
            previous_fire=previous_fire,
            initial=self.initial,
            lookback=self.lookback,
        )

    def query(self, window: Window) -> dict[str, str]:
        """The query parameters for ``window``."""
        return {
            self.since_param: format_time(window.query_start, self.format),
            self.until_param: format_time(window.end, self.format),
        }

    def __repr__(self) -> str:
        extras = "".join(
            f", {name}={value!r}"
            for name, value in (("initial", self.initial), ("lookback", self.lookback or None))
            if value is not None
        )
        return f"TimeWindow({self.since_param!r}, {self.until_param!r}{extras})"


def interval_references(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(field, variable)`` for each template in ``fields`` that reads the data interval.

    Looks inside ``{{ ... }}`` and ``{% ... %}`` of every string, also nested in dicts, lists
    and tuples, for ``data_interval_start`` and ``data_interval_end``: bare, or at the end of
    any attribute or item path (``dag_run.data_interval_start``,
    ``ti.dag_run.data_interval_end``, ``task_instance.dag_run.data_interval_start``).
    ``prev_data_interval_*_success`` are not matched: following on from the previous success is
    the right thing on an empty interval. Linear in the length of the text.
    """
    found: list[tuple[str, str]] = []
    for name, value in fields.items():
        for where, text in _strings(name, value):
            for block in _jinja_blocks(text):
                for match in _INTERVAL_NAME.finditer(block):
                    item = (where, f"data_interval_{match.group(1)}")
                    if item not in found:
                        found.append(item)
    return found


def _jinja_blocks(text: str) -> Iterator[str]:
    """The insides of ``{{ ... }}`` and ``{% ... %}`` in ``text``, in one pass (linear time).

    Each block ends at the first closer of its kind, as Jinja reads it. An opener whose closer
    never comes ends the search for that kind: no later opener of it can close either.
    """
    position = 0
    # Where each opener next occurs; a kind is searched again only once the scan has passed it,
    # so each character is looked at a bounded number of times.
    upcoming = {opener: text.find(opener) for opener in _JINJA_OPEN}
    while True:
        for opener, at in upcoming.items():
            if 0 <= at < position:
                upcoming[opener] = text.find(opener, position)
        live = [(at, opener) for opener, at in upcoming.items() if at >= 0]
        if not live:
            return
        at, opener = min(live)
        start = at + len(opener)
        closer = _JINJA_OPEN[opener]
        end = text.find(closer, start)
        if end < 0:
            upcoming[opener] = -1  # no later opener of this kind can close either
            position = start
            continue
        yield text[start:end]
        position = end + len(closer)


def _strings(where: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(f"{where}[{key!r}]", item)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _strings(f"{where}[{index}]", item)


def _iso(moment: dt.datetime) -> str:
    text = moment.astimezone(dt.timezone.utc).isoformat()
    return text.replace("+00:00", "Z")
