"""The Airflow side of :mod:`airflow_provider_rh.windows`: read the run, fill the templates, refuse the trap.

Airflow renders ``template_fields`` before ``execute``, so the window is computed where
rendering starts (``_do_render_template_fields``, which Airflow calls on the operator itself
for plain and for mapped tasks alike): ``{{ window_start }}`` and ``{{ window_end }}`` are then
in the context of every field, and the window's parameters are added to the rendered query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_rh.exceptions import WindowError
from airflow_provider_rh.windows import TimeWindow, Window, interval_references

try:
    from airflow.sdk.exceptions import AirflowFailException
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.exceptions import AirflowFailException  # type: ignore[no-redef,attr-defined,unused-ignore]

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

#: Fields whose templates become the request: a data interval read there shapes what is pulled.
_REQUEST_FIELDS = ("path", "query_params", "json", "data")
#: Earlier runs in these states have not failed: a window follows on from where theirs ends.
#: Asked in the order a run goes through them: a run that moves on between two questions is
#: still found by a later one (asked "running" while queued, then "queued" while running, it
#: would be missed).
_LIVE_STATES = ("queued", "running", "success")


class WindowFailure(WindowError, AirflowFailException):
    """A :class:`WindowError` raised in a task: it fails at once, since retrying cannot help."""


class WindowedMixin:
    """``window=`` and the empty-interval check for an operator with ``path`` and ``query_params``.

    Set ``window`` and ``allow_empty_interval`` in ``__init__`` (see :func:`check_window_args`);
    after rendering, ``run_window`` holds this try's :class:`~airflow_provider_rh.windows.Window`.
    """

    window: TimeWindow | None
    allow_empty_interval: bool
    query_params: Any
    task_id: str
    run_window: Window | None = None

    def _do_render_template_fields(
        self,
        parent: Any,
        template_fields: Any,
        context: Context,
        jinja_env: jinja2.Environment,
        seen_oids: set[int],
    ) -> None:
        if parent is self:
            if not self.allow_empty_interval:
                refuse_empty_interval(self, context)
            if self.window is not None:
                self.run_window = window_for_run(self.window, context)
                add_to_context(context, self.run_window)
        super()._do_render_template_fields(  # type: ignore[misc]
            parent, template_fields, context, jinja_env, seen_oids
        )
        if parent is self and self.window is not None and self.run_window is not None:
            self.query_params = {**(self.query_params or {}), **self.window.query(self.run_window)}

    def log_window(self) -> None:
        """Log the window line from ``execute``, beside the pull's own lines.

        Not while rendering: Airflow folds what is logged before ``execute`` into the collapsed
        pre-execute section of the task log, where nobody looks for it.
        """
        log = getattr(self, "log", None)
        if log is not None and self.window is not None and self.run_window is not None:
            log.info("%s", describe(self.window, self.run_window))


def check_window_args(window: TimeWindow | None, query_params: Any, *, pagination: Any = None) -> None:
    """Fail at parse time on a ``window`` that is not a TimeWindow or whose parameters clash.

    A clash is a window parameter also set in ``query_params``, or also a query parameter of
    ``pagination`` (its ``*_param`` attributes: the pager's value would win on every request).
    """
    if window is None:
        return
    if not isinstance(window, TimeWindow):
        raise WindowError(
            f"window must be an airflow_provider_rh.windows.TimeWindow, got {type(window).__name__}",
            field="window",
        )
    for role in ("since_param", "until_param"):
        name = getattr(window, role)
        for attribute, value in pagination_params(pagination):
            if value == name:
                raise WindowError(
                    f"The window's {role} {name!r} ({window!r}) is also the pagination's {attribute} "
                    f"({pagination!r}): the pager would overwrite the window's value in the query. "
                    "Give one of them another parameter name.",
                    field="window",
                )
    if isinstance(query_params, Mapping):
        clash = sorted({window.since_param, window.until_param} & set(query_params))
        if clash:
            raise WindowError(
                f"query_params sets {', '.join(clash)}, which the window {window!r} sets for each run; "
                "remove them from query_params.",
                field="query_params",
            )


def pagination_params(pagination: Any) -> list[tuple[str, str]]:
    """``(attribute, name)`` of each query parameter a pagination strategy sets (``*_param``)."""
    if pagination is None:
        return []
    return [
        (attribute, value)
        for attribute, value in sorted(getattr(pagination, "__dict__", {}).items())
        if attribute.endswith("_param") and isinstance(value, str)
    ]


def refuse_empty_interval(task: Any, context: Context) -> None:
    """Raise before any request when the request's templates read an empty data interval."""
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None or start != end:
        return
    fields = {name: getattr(task, name) for name in _REQUEST_FIELDS if getattr(task, name, None) is not None}
    found = interval_references(fields)
    if not found:
        return
    reads = "; ".join(f"{where} reads {name}" for where, name in found)
    raise WindowFailure(
        f"Task {task.task_id!r} builds its request from the data interval ({reads}), but this run's "
        f"data interval is empty: data_interval_start == data_interval_end == {_iso(end)}. A cron "
        'schedule such as "@daily" gives Airflow 3\'s CronTriggerTimetable, whose runs have no data '
        "interval, so this query would pull nothing (or the wrong span) and still succeed. Refused "
        "before any request. Either use window=TimeWindow(<since param>, <until param>) from "
        "airflow_provider_rh.windows (each run then pulls from where the last successful run ended "
        "to its own logical date), or schedule with CronDataIntervalTimetable(<cron>, timezone=...) "
        "for runs with real data intervals. If the empty interval is meant, pass "
        "allow_empty_interval=True.",
        field="query_params",
    )


def window_for_run(window: TimeWindow, context: Context) -> Window:
    """This run's window: its data interval, or (when empty) on from the runs before it."""
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is None or end is None:
        raise WindowFailure(
            "This run has no logical date, so it has no data interval and Airflow cannot tell which "
            "runs came before it; a window needs both. Trigger it with a logical date (the UI's "
            "trigger form and `airflow dags trigger --logical-date` take one).",
            field="window",
        )
    try:
        if start < end:
            return window.compute(interval_start=start, interval_end=end)
        previous_end = previous_window_end(context)
        previous_fire = None
        if previous_end is None and window.initial is None:
            dag = context.get("dag")
            previous_fire = previous_fire_time(getattr(dag, "timetable", None), end)
        return window.compute(
            interval_start=start, interval_end=end, previous_end=previous_end, previous_fire=previous_fire
        )
    except WindowFailure:
        raise
    except WindowError as exc:
        raise WindowFailure(str(exc), field=exc.field) from None


def previous_window_end(context: Context) -> dt.datetime | None:
    """Where the latest earlier run that has not failed ends its window (its data interval end).

    That is Airflow's ``prev_data_interval_end_success``, unless an earlier run is still queued
    or running (catchup, backfill, ``max_active_runs`` > 1): its window is then taken as covered
    by it, so concurrent runs do not pull the same span twice. The states are asked live, the
    success too: the context's value was read when the task started, and a run that finished
    since (running then, success now) would otherwise be in neither answer.
    """
    ends = [_resolved(context.get("prev_data_interval_end_success"))]
    get_previous = getattr(context.get("ti"), "get_previous_dagrun", None)
    if get_previous is not None:  # Airflow >= 3.1
        for state in _LIVE_STATES:
            run = get_previous(state=state)
            if run is not None:
                ends.append(run.data_interval_end)
    return max((end for end in ends if end is not None), default=None)


def previous_fire_time(timetable: Any, moment: dt.datetime) -> dt.datetime | None:
    """The timetable's last fire time before ``moment``; ``None`` for schedules without one.

    Uses Airflow's own cron and delta arithmetic (DST as the scheduler does it). The task SDK
    hands out the DAG's SDK timetable, a plain description; the scheduler's timetable with the
    arithmetic is made from it the way Airflow itself does.
    """
    if timetable is None:
        return None
    if not hasattr(timetable, "_get_prev") and not hasattr(timetable, "_timetables"):
        try:
            from airflow.serialization.encoders import coerce_to_core_timetable
        except ImportError:  # pragma: no cover - Airflow 3.0 keeps core timetables on the DAG
            return None
        timetable = coerce_to_core_timetable(timetable)
    import pendulum

    current = pendulum.instance(moment)
    fires = [
        part._get_prev(current)
        for part in getattr(timetable, "_timetables", None) or [timetable]
        if hasattr(part, "_get_prev")
    ]
    return max(fires, default=None)


def add_to_context(context: Context, window: Window) -> None:
    """``window_start``, ``window_end`` (UTC datetimes) and ``window`` for templates."""
    import pendulum

    values = cast("dict[str, Any]", context)
    values["window"] = window
    values["window_start"] = pendulum.instance(window.start).in_timezone("UTC")
    values["window_end"] = pendulum.instance(window.end).in_timezone("UTC")


def describe(window: TimeWindow, run: Window) -> str:
    """One log line: the window, where its start came from, and the query."""
    query = ", ".join(f"{key}={value}" for key, value in window.query(run).items())
    note = f" (empty: {run.why_empty()})" if run.empty else ""
    margin = f", re-reading {run.lookback} before it" if run.lookback else ""
    return f"Window [{_iso(run.start)}, {_iso(run.end)}) from the {run.source}{margin}{note}: {query}."


def _resolved(value: Any) -> Any:
    """The value behind Airflow's lazy context proxies (a proxy of ``None`` is not ``None``)."""
    return getattr(value, "__wrapped__", value)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
