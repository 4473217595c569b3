"""Wait until a Region Halland API endpoint answers the way a DAG needs."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator

from airflow_provider_rh._windowing import WindowedMixin, check_window_args
from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.exceptions import ApiError, ConfigurationError, RegionHallandError, TransportError
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.triggers._budget import PokeBudget, PokeTimeout, seconds, use_policy
from airflow_provider_rh.triggers.regionhalland import (
    RegionHallandApiTrigger,
    ResponseCheck,
    check_path,
    import_check,
    is_not_yet,
)

try:
    from airflow.sdk.configuration import conf
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.configuration import conf  # type: ignore[no-redef,unused-ignore]
try:
    from airflow.sdk.exceptions import AirflowSensorTimeout
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.exceptions import AirflowSensorTimeout  # type: ignore[attr-defined,no-redef,unused-ignore]

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import Context

    from airflow_provider_rh.windows import TimeWindow


_MODES = ("poke", "reschedule")


def check_sensor_args(kwargs: Mapping[str, Any]) -> None:
    """Refuse a ``poke_interval``/``timeout`` that is not finite and >= 0, or an unknown ``mode``.

    Airflow's own check raises a bare ``ValueError`` (or ``OverflowError`` for huge numbers);
    this one names the argument and what is accepted, when the DAG is parsed.
    """
    for name in ("poke_interval", "timeout"):
        if kwargs.get(name) is not None:
            seconds(kwargs[name], name=name)
    mode = kwargs.get("mode", "poke")
    if mode not in _MODES:
        raise ConfigurationError(f"mode must be 'poke' or 'reschedule', got {mode!r}.", field="mode")


class RegionHallandApiSensor(WindowedMixin, BaseSensorOperator):
    """Poke an endpoint until it answers 2xx and ``response_check`` accepts the answer.

    ``response_check(response: httpx.Response) -> bool`` gets the whole response, as the HTTP
    provider's ``HttpSensor`` does (``response.json()`` for the body); without it any 2xx
    passes. With ``not_found_ok=True`` a 404 means "not yet" instead of failing the task.
    ``window=TimeWindow(...)`` adds the run's time window to the query, as on the operators; a
    query that reads an empty data interval is refused unless ``allow_empty_interval=True``.

    With ``deferrable=True`` the waiting happens in the triggerer
    (:class:`~airflow_provider_rh.triggers.regionhalland.RegionHallandApiTrigger`), without a
    worker slot, after one poke in the worker (an endpoint that is already ready costs no
    deferral). ``timeout`` bounds each poke as well: the retries of a poke's call (429 with
    ``Retry-After``, 5xx) stop where the timeout ends, and the task fails with
    ``AirflowSensorTimeout`` then. ``poke_interval`` and ``timeout`` must be finite, not
    negative (seconds or a timedelta); ``mode`` ``"poke"`` or ``"reschedule"``. The check then
    has to be importable there: a dotted path string such as
    ``"mypackage.checks.units_ready"``, or a module-level function of such a module (not a
    lambda and not a function defined in the DAG file, which the triggerer never parses).

    .. code-block:: python

        wait = RegionHallandApiSensor(
            task_id="wait_for_unit",
            path="/units/{{ params.unit_id }}",
            not_found_ok=True,
            response_check="mypackage.checks.unit_is_active",
            deferrable=True,
            poke_interval=300,
        )
    """

    template_fields: Sequence[str] = ("path", "query_params", "headers", "json", "resource", "scopes")
    template_fields_renderers = {"query_params": "json", "headers": "json", "json": "json"}
    ui_color = "#e3f1e9"

    def __init__(
        self,
        *,
        path: str,
        method: str = "GET",
        query_params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        resource: str | None = None,
        scopes: str | list[str] | None = None,
        response_check: ResponseCheck | str | None = None,
        not_found_ok: bool = False,
        regionhalland_conn_id: str = RegionHallandHook.default_conn_name,
        window: TimeWindow | None = None,
        allow_empty_interval: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        check_sensor_args(kwargs)
        super().__init__(**kwargs)
        check_window_args(window, query_params)
        self.window = window
        self.allow_empty_interval = allow_empty_interval
        self.path = path
        self.method = method.upper()
        self.query_params = query_params
        self.headers = headers
        self.json = json
        self.resource = resource
        self.scopes = scopes
        self.not_found_ok = not_found_ok
        self.regionhalland_conn_id = regionhalland_conn_id
        self.deferrable = deferrable
        # Fail at DAG parse time, not hours later in the triggerer.
        self.response_check = check_path(response_check) if deferrable and response_check else response_check
        #: The clock of the timeout and the sleep of retry waits inside a poke: tests replace
        #: them to count attempts on fake time. Airflow's own wait between pokes is its own.
        self.clock: Callable[[], float] = time.monotonic
        self.sleep: Callable[[float], None] = time.sleep
        self._timeout_ends: float | None = None

    @cached_property
    def hook(self) -> RegionHallandHook:
        return RegionHallandHook(self.regionhalland_conn_id)

    @cached_property
    def _check(self) -> ResponseCheck | None:
        if isinstance(self.response_check, str):
            return import_check(self.response_check)
        return self.response_check

    @cached_property
    def _retry(self) -> RetryPolicy:
        """The connection's retry policy, before any poke bounds it."""
        return self.hook.tokens.retry

    def poke(self, context: Context) -> bool:
        ends = self._timeout_ends if self._timeout_ends is not None else self.clock() + self.timeout
        budget = PokeBudget(ends, self.clock)
        hook = self.hook
        use_policy(hook.client, hook.tokens, budget.policy(self._retry, sleep=self.sleep))
        try:
            response = hook.request(
                self.method,
                self.path,
                params=self.query_params,
                headers=self.headers,
                json=self.json,
                resource=self.resource,
                scopes=self.scopes,
                timeout=budget.attempt_timeout(hook.config.timeout),
                raise_for_status=False,
            )
        except PokeTimeout as exc:
            raise self._timed_out(str(exc)) from None
        except TransportError as exc:
            if budget.spent():
                raise self._timed_out(f"the last poke failed: {exc}") from exc
            raise
        if budget.cut_short(self._retry, response.status_code, self.method):
            raise self._timed_out(f"the last poke was answered {response.status_code}")
        return self._ready(response)

    def _timed_out(self, cause: str) -> AirflowSensorTimeout:
        return AirflowSensorTimeout(
            f"{self.method} {self.path} was not ready within the timeout of {self.timeout:g} s: {cause}."
        )

    def _ends(self, context: Context) -> float:
        """Where the timeout ends on :attr:`clock`: from this try's start, or in reschedule mode
        from the first reschedule (as Airflow counts it)."""
        elapsed = 0.0
        ti = context.get("ti") if self.reschedule else None
        first = getattr(ti, "get_first_reschedule_date", None)
        if first is not None:
            started = first(context)
            if started is not None:
                elapsed = max(0.0, (datetime.now(timezone.utc) - started).total_seconds())
        return self.clock() + self.timeout - elapsed

    def _ready(self, response: httpx.Response) -> bool:
        url = response.request.url.copy_with(query=None)
        if is_not_yet(response, not_found_ok=self.not_found_ok):
            self.log.info("%s %s answered 404: not there yet.", self.method, url)
            return False
        ready = self._check is None or bool(self._check(response))
        self.log.info(
            "%s %s answered %s; %s.",
            self.method,
            url,
            response.status_code,
            "ready" if ready else "response_check says not yet",
        )
        return ready

    def execute(self, context: Context) -> Any:
        self._timeout_ends = self._ends(context)
        self.log_window()
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):  # already there: no deferral round trip
            return None
        self.defer(
            trigger=RegionHallandApiTrigger(
                path=self.path,
                regionhalland_conn_id=self.regionhalland_conn_id,
                method=self.method,
                query_params=self.query_params,
                headers=self.headers,
                json=self.json,
                resource=self.resource,
                scopes=self.scopes,
                response_check=check_path(self.response_check) if self.response_check else None,
                not_found_ok=self.not_found_ok,
                poke_interval=self.poke_interval,
                timeout=self.timeout,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: Mapping[str, Any]) -> None:
        """Resume after the trigger: return on success, raise what the trigger reported otherwise."""
        if event.get("status") == "success":
            self.log.info(
                "%s %s answered %s after %s pokes in the triggerer; ready.",
                self.method,
                event.get("url"),
                event.get("status_code"),
                event.get("pokes"),
            )
            return
        message = str(event.get("message", "The trigger reported an error without a message."))
        reason = event.get("reason")
        if reason == "timeout":
            raise AirflowSensorTimeout(message)
        if reason == "ApiError":
            raise ApiError(message, status_code=int(event["status_code"]), url=str(event.get("url", "")))
        raise RegionHallandError(message)
