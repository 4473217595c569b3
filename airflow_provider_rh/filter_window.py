"""A time window written into one filter expression: OData's ``$filter``, and the like.

:class:`FilterWindow` is a :class:`~airflow_provider_rh.windows.TimeWindow` in everything but
the query: the same ``[start, end)`` per run under every timetable (catchup, backfill, failed
and skipped runs, ``initial``, ``lookback``), rendered into one parameter:

.. code-block:: python

    FilterWindow("$filter", "Modified ge {start} and Modified lt {end}")
    # $filter=Modified ge 2026-01-01T00:00:00Z and Modified lt 2026-01-02T00:00:00Z
"""

from __future__ import annotations

import datetime as dt
import string

from airflow_provider_rh.exceptions import WindowError
from airflow_provider_rh.windows import ISO_UTC, TimeFormat, TimeWindow, Window, format_time

__all__ = ["FilterWindow"]


class FilterWindow(TimeWindow):
    """Put each run's window into ``param`` as ``expression`` with ``{start}`` and ``{end}`` filled in.

    ``{start}`` is the query start (the window start less ``lookback``), ``{end}`` the window
    end, both written with ``format`` (ISO 8601 UTC to the second by default; OData takes that
    unquoted as a ``DateTimeOffset``). Further conditions go into the expression itself:
    ``"Modified ge {start} and Modified lt {end} and Active eq true"``.

    :param param: the query parameter, e.g. ``"$filter"``; must not also be in ``query_params``.
    :param expression: the filter, with ``{start}`` and ``{end}`` exactly once each.
    """

    def __init__(
        self,
        param: str,
        expression: str,
        *,
        initial: dt.datetime | None = None,
        lookback: dt.timedelta | None = None,
        format: TimeFormat = ISO_UTC,
    ) -> None:
        if not isinstance(param, str) or not param:
            raise WindowError(f"param must be a non-empty query parameter name, got {param!r}", field="param")
        if not isinstance(expression, str):
            raise WindowError(f"expression must be a string, got {expression!r}", field="expression")
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(expression) if name is not None]
        except ValueError as exc:
            raise WindowError(
                f"expression {expression!r} is not a format string: {exc}", field="expression"
            ) from None
        if sorted(names) != ["end", "start"]:
            raise WindowError(
                f"expression must contain {{start}} and {{end}} once each and no other placeholders, got "
                f"{expression!r}; write literal braces as {{{{ and }}}}.",
                field="expression",
            )
        # A placeholder pair of distinct names lets TimeWindow check everything else once.
        super().__init__(
            f"{param}\0start", f"{param}\0end", initial=initial, lookback=lookback, format=format
        )
        self.since_param = self.until_param = param
        self.param = param
        self.expression = expression

    def query(self, window: Window) -> dict[str, str]:
        """``{param: expression}`` for ``window``."""
        start = format_time(window.query_start, self.format)
        end = format_time(window.end, self.format)
        return {self.param: self.expression.format(start=start, end=end)}

    def __repr__(self) -> str:
        extras = "".join(
            f", {name}={value!r}"
            for name, value in (("initial", self.initial), ("lookback", self.lookback or None))
            if value is not None
        )
        return f"FilterWindow({self.param!r}, {self.expression!r}{extras})"
