"""Wait for a Region Halland API endpoint in Airflow's triggerer, without holding a worker slot.

The trigger polls through :meth:`RegionHallandHook.arequest`, so tokens, the subscriber key,
retries and status handling are the same code the sync sensor uses. A response check crosses the
process boundary as a dotted import path, since a trigger is rebuilt from its ``serialize()``
output in another process.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx
from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_rh.core.client import api_error
from airflow_provider_rh.core.http import make_async_client
from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.exceptions import ApiError, ConfigurationError, RegionHallandError, TransportError
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.triggers._budget import (
    PokeBudget,
    PokeTimeout,
    optional_seconds,
    safe_payload,
    seconds,
    use_policy,
)

#: ``response_check(response) -> bool``; it gets the :class:`httpx.Response`, not parsed JSON.
ResponseCheck = Callable[[httpx.Response], Any]

# Airflow imports DAG files under generated module names the triggerer never sees.
_UNIMPORTABLE_MODULE_PREFIXES = ("__main__", "unusual_prefix_")


def is_not_yet(response: httpx.Response, *, not_found_ok: bool) -> bool:
    """Whether ``response`` means "not there yet" (a 404 when allowed); other non-2xx raise ``ApiError``."""
    if response.is_success:
        return False
    if response.status_code == 404 and not_found_ok:
        return True
    raise api_error(response)


def import_check(path: str) -> ResponseCheck:
    """Import ``"package.module.function"`` (or ``"package.module.Class.method"``)."""
    parts = path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            obj: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and (module_name == exc.name or module_name.startswith(f"{exc.name}.")):
                continue  # this prefix is not a module; try a shorter one
            raise ConfigurationError(
                f"Importing response_check {path!r} failed: {exc}.", field="response_check"
            ) from exc
        try:
            for name in parts[split:]:
                obj = getattr(obj, name)
        except AttributeError as exc:
            raise ConfigurationError(
                f"response_check {path!r}: module {module_name!r} has no {'.'.join(parts[split:])!r}.",
                field="response_check",
            ) from exc
        if not callable(obj):
            raise ConfigurationError(f"response_check {path!r} is not callable.", field="response_check")
        return obj  # type: ignore[no-any-return]
    raise ConfigurationError(
        f"response_check {path!r} cannot be imported: give a dotted path like 'mypackage.checks.is_ready' "
        "to a module on the PYTHONPATH of both workers and the triggerer.",
        field="response_check",
    )


def check_path(check: ResponseCheck | str) -> str:
    """The dotted path a trigger can re-import ``check`` by; refuse a check it could not import.

    Lambdas, nested functions and functions defined in a DAG file are refused: the triggerer
    does not parse DAG files, so it could never find them.
    """
    if isinstance(check, str):
        return check
    module = getattr(check, "__module__", None) or ""
    qualname = getattr(check, "__qualname__", None) or ""
    path = f"{module}.{qualname}"
    if not module or not qualname or "<" in qualname or module.startswith(_UNIMPORTABLE_MODULE_PREFIXES):
        raise ConfigurationError(
            f"response_check {path!r} cannot run in the triggerer: with deferrable=True it must be a "
            "module-level function in a module the triggerer can import (a package or plugins/, not "
            "a lambda, a nested function or a DAG file), or its dotted path as a string.",
            field="response_check",
        )
    if import_check(path) is not check:
        raise ConfigurationError(
            f"response_check {path!r} imports to a different object; pass its dotted path as a string.",
            field="response_check",
        )
    return path


class _PokeTimedOut(PokeTimeout):
    """A :class:`PokeTimeout` that knows how many pokes were made."""

    def __init__(self, message: str, *, pokes: int) -> None:
        super().__init__(message, pokes=pokes)
        self.pokes = pokes


class _CheckFailed(Exception):
    """The user's response check raised; reported as an error event, not a trigger crash."""


class RegionHallandApiTrigger(BaseTrigger):
    """Poll an endpoint every ``poke_interval`` seconds until it is ready, or ``timeout`` passes.

    "Ready" means a 2xx answer that ``response_check`` (a dotted path to
    ``check(response: httpx.Response) -> bool``, called in the triggerer's event loop, so it
    must be quick) accepts; without a check any 2xx is ready. With ``not_found_ok`` a 404 means
    "not yet"; any other failure ends the wait.

    Events: ``{"status": "success", "status_code", "url", "pokes", "elapsed"}`` or
    ``{"status": "error", "reason", "message", ...}`` where ``reason`` is ``"timeout"``, the
    exception's class name (``"ApiError"`` adds ``status_code`` and ``url``), or
    ``"response_check"``. ``timeout`` counts from the start of :meth:`run`, so it starts
    again if the triggerer restarts; the sensor also sets the deferral's own timeout, which
    Airflow keeps across restarts. It bounds each poke too: retries inside a poke (429,
    ``Retry-After``, 5xx) stop where the timeout ends. Every text in an event is redacted and
    cut short, since events are stored in the metadata database. Headers given here are stored
    with the trigger in the metadata database: keep secrets out of them (the token and
    subscriber key are added per request).

    .. code-block:: python

        RegionHallandApiTrigger(path="/units/42", not_found_ok=True, poke_interval=30, timeout=3600)
    """

    def __init__(
        self,
        *,
        path: str,
        regionhalland_conn_id: str = RegionHallandHook.default_conn_name,
        method: str = "GET",
        query_params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        resource: str | None = None,
        scopes: str | list[str] | None = None,
        response_check: str | None = None,
        not_found_ok: bool = False,
        poke_interval: float = 60.0,
        timeout: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.path = path
        self.regionhalland_conn_id = regionhalland_conn_id
        self.method = method
        self.query_params = dict(query_params) if query_params is not None else None
        self.headers = dict(headers) if headers is not None else None
        self.json = json
        self.resource = resource
        self.scopes = scopes
        self.response_check = response_check
        self.not_found_ok = not_found_ok
        self.poke_interval = seconds(poke_interval, name="poke_interval")
        self.timeout = optional_seconds(timeout, name="timeout")
        #: The polling loop's clock and sleep (not serialized): tests replace them to poll
        #: without waiting, so timeouts are counted in pokes, not in machine speed.
        self.clock: Callable[[], float] = time.monotonic
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{self.__class__.__module__}.{self.__class__.__qualname__}",
            {
                "path": self.path,
                "regionhalland_conn_id": self.regionhalland_conn_id,
                "method": self.method,
                "query_params": self.query_params,
                "headers": self.headers,
                "json": self.json,
                "resource": self.resource,
                "scopes": self.scopes,
                "response_check": self.response_check,
                "not_found_ok": self.not_found_ok,
                "poke_interval": self.poke_interval,
                "timeout": self.timeout,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            payload = await self._wait()
        except _PokeTimedOut as exc:
            payload = self._timed_out(str(exc), exc.pokes)
        except _CheckFailed as exc:
            payload = {"status": "error", "reason": "response_check", "message": str(exc)}
        except ApiError as exc:
            payload = {
                "status": "error",
                "reason": "ApiError",
                "message": str(exc),
                "status_code": exc.status_code,
                "url": exc.url,
            }
        except RegionHallandError as exc:
            payload = {"status": "error", "reason": type(exc).__name__, "message": str(exc)}
        yield TriggerEvent(safe_payload(payload))  # type: ignore[no-untyped-call]

    def _timed_out(self, cause: str, pokes: int) -> dict[str, Any]:
        return {
            "status": "error",
            "reason": "timeout",
            "message": f"{self.method} {self.path} was not ready after {pokes} pokes within the timeout "
            f"of {self.timeout} s: {cause}.",
            "pokes": pokes,
        }

    async def _wait(self) -> dict[str, Any]:
        """Poke until ready or out of time; the event payload."""
        started = self.clock()
        budget = PokeBudget(None if self.timeout is None else started + self.timeout, self.clock)
        check = import_check(self.response_check) if self.response_check else None
        hook = RegionHallandHook(self.regionhalland_conn_id)
        config = await hook.aget_config()
        base = hook.tokens.retry or RetryPolicy()
        # The connection's own client: TLS settings as an ssl context (a CA bundle path given to
        # httpx as a string is deprecated), and the per-attempt deadline.
        async with make_async_client(config) as client:
            for pokes in itertools.count(1):
                # This poke's retries end where the timeout ends (waits on the trigger's clock).
                use_policy(hook.client, hook.tokens, budget.policy(base, async_sleep=self.sleep))
                try:
                    response = await hook.arequest(
                        self.method,
                        self.path,
                        params=self.query_params,
                        headers=self.headers,
                        json=self.json,
                        resource=self.resource,
                        scopes=self.scopes,
                        timeout=budget.attempt_timeout(config.timeout),
                        raise_for_status=False,
                        client=client,
                    )
                except PokeTimeout as exc:
                    raise _PokeTimedOut(str(exc), pokes=pokes) from None
                except TransportError as exc:
                    if budget.spent():
                        raise _PokeTimedOut(f"the last poke failed: {exc}", pokes=pokes) from None
                    raise
                if budget.cut_short(base, response.status_code, self.method):
                    raise _PokeTimedOut(f"the last poke was answered {response.status_code}", pokes=pokes)
                if self._ready(response, check):
                    return {
                        "status": "success",
                        "status_code": response.status_code,
                        "url": str(response.request.url.copy_with(query=None)),
                        "pokes": pokes,
                        "elapsed": round(self.clock() - started, 3),
                    }
                wait = self.poke_interval
                remaining = budget.remaining()
                if remaining is not None:
                    if remaining <= 0:
                        return {
                            "status": "error",
                            "reason": "timeout",
                            "message": f"{self.method} {self.path} was not ready after {pokes} pokes "
                            f"within the timeout of {self.timeout} s.",
                            "pokes": pokes,
                        }
                    wait = min(wait, remaining)
                self.log.info("%s %s is not ready yet (poke %d).", self.method, self.path, pokes)
                await self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _ready(self, response: httpx.Response, check: ResponseCheck | None) -> bool:
        if is_not_yet(response, not_found_ok=self.not_found_ok):
            return False
        if check is None:
            return True
        try:
            return bool(check(response))
        except Exception as exc:
            raise _CheckFailed(
                f"response_check {self.response_check!r} raised {type(exc).__name__}: {exc}"
            ) from exc
