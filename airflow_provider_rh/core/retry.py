"""When to retry an HTTP call, and how long to wait.

Retries are bounded by attempts *and* total time, and the time is a bound: while a call runs,
what is left of ``total_seconds`` caps each attempt's deadline (a hanging attempt ends when
the budget does, see :class:`~airflow_provider_rh.core.deadline.Budget`), and no wait is
started that would end after it. Only what is safe is retried: connection
errors before a request was sent, 429 (the server did not process it; ``Retry-After`` is
honoured, between a floor and a cap), and 5xx or read errors for idempotent methods. Sleep and
clock are injectable, so tests see every wait without sleeping. A :class:`RetryStats` given to
the policy counts attempts, retries and their causes, e.g. for a pull's summary. A request that
could never be sent (a malformed header) is not retried.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import random
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import tenacity

from airflow_provider_rh.core.deadline import BUDGET, Budget
from airflow_provider_rh.core.fields import describe
from airflow_provider_rh.exceptions import TransportError

#: Longest ``Retry-After`` value read.
MAX_RETRY_AFTER_CHARS = 64

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class RetryableResponse(Exception):
    """Raised inside the retry loop for a response worth another try; carries the response."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def describe_cause(exc: BaseException | None) -> str:
    """``"HTTP 503"`` for a response worth retrying, else the exception's class name."""
    if isinstance(exc, RetryableResponse):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__ if exc is not None else "unknown"


class RetryStats:
    """What the calls through a policy cost: attempts per kind, retries by cause, time waited.

    ``kind`` is what the caller says it sends (``"token"`` for token requests, ``"request"``
    otherwise). Thread-safe, since concurrent page fetches share one.

    .. code-block:: python

        stats = RetryStats()
        hook = RegionHallandHook(retry=RetryPolicy(stats=stats))
        ...
        stats.retries, stats.token_requests, stats.causes  # 3, 2, {"HTTP 503": 2, "ReadError": 1}
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.attempts: Counter[str] = Counter()
        self.causes: Counter[str] = Counter()
        self.waited = 0.0
        self.gave_up: str | None = None
        """The last call that ran out of attempts or time, e.g. ``"gave up after 5 attempts: HTTP 503"``."""

    def attempted(self, kind: str) -> None:
        with self._lock:
            self.attempts[kind] += 1

    def retried(self, cause: str, wait: float) -> None:
        with self._lock:
            self.causes[cause] += 1
            self.waited += wait

    def giving_up(self, description: str) -> None:
        with self._lock:
            self.gave_up = description

    @property
    def retries(self) -> int:
        with self._lock:
            return sum(self.causes.values())

    @property
    def token_requests(self) -> int:
        with self._lock:
            return self.attempts["token"]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds and pacing of retries; ``sleep``/``async_sleep``/``clock`` are injectable for tests.

    ``total_seconds`` bounds a whole call, attempts and waits: each attempt's deadline is the
    lesser of its timeout and what is left.
    """

    attempts: int = 5
    total_seconds: float = 300.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    retry_after_floor: float = 0.1
    retry_after_cap: float = 120.0
    jitter: float = 0.25
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    async_sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)
    stats: RetryStats | None = field(default=None, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def budget(self) -> Budget:
        """A fresh budget of ``total_seconds`` for one call (within the enclosing call's, if any)."""
        return Budget(self.total_seconds, clock=self.clock, parent=BUDGET.get())

    def should_retry_status(self, status_code: int, *, idempotent: bool) -> bool:
        if status_code == 429:
            return True  # the server did not process the request
        return status_code in RETRY_STATUSES and idempotent

    def should_retry_exception(self, exc: BaseException, *, idempotent: bool) -> bool:
        if isinstance(exc, RetryableResponse):
            return True
        if isinstance(exc, httpx.LocalProtocolError):
            return False  # the request could not be written; it never will be
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            return True  # nothing reached the server
        if isinstance(exc, httpx.TransportError):
            return idempotent
        return False

    def backoff(self, attempt_number: int) -> float:
        """Exponential backoff with jitter for the wait after attempt ``attempt_number`` (1-based)."""
        base: float = min(self.backoff_max, self.backoff_initial * 2.0 ** (attempt_number - 1))
        return base * (1 + self.jitter * self.rng.random())

    def wait_for(self, exc: BaseException | None, attempt_number: int) -> float:
        if isinstance(exc, RetryableResponse):
            retry_after = parse_retry_after(exc.response.headers.get("Retry-After"))
            if retry_after is not None:
                return min(self.retry_after_cap, max(self.retry_after_floor, retry_after))
        return self.backoff(attempt_number)

    def _tenacity_kwargs(self, idempotent: bool, budget: Budget) -> dict[str, Any]:
        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            return float(self.wait_for(exc, state.attempt_number))

        def before_sleep(state: tenacity.RetryCallState) -> None:
            if self.stats is not None:
                exc = state.outcome.exception() if state.outcome else None
                upcoming = state.next_action.sleep if state.next_action else 0.0
                self.stats.retried(describe_cause(exc), float(upcoming))

        return {
            "before_sleep": before_sleep,
            # No wait that would end after the budget (the budget's clock, so tests can inject it).
            "stop": tenacity.stop_after_attempt(self.attempts) | _StopAtBudget(budget),
            "wait": wait,
            "retry": tenacity.retry_if_exception(
                lambda exc: self.should_retry_exception(exc, idempotent=idempotent)
            ),
            "reraise": True,
        }

    def retrying(self, *, idempotent: bool, budget: Budget | None = None) -> tenacity.Retrying:
        budget = budget or self.budget()
        return tenacity.Retrying(sleep=self.sleep, **self._tenacity_kwargs(idempotent, budget))

    def async_retrying(self, *, idempotent: bool, budget: Budget | None = None) -> tenacity.AsyncRetrying:
        budget = budget or self.budget()
        return tenacity.AsyncRetrying(sleep=self.async_sleep, **self._tenacity_kwargs(idempotent, budget))

    def call(
        self, send: Callable[[], httpx.Response], *, idempotent: bool, kind: str = "request"
    ) -> httpx.Response:
        """Send until a response is final; return the last response even if it is an error.

        ``kind`` labels the attempts in :attr:`stats` (``"token"`` for token requests).
        """
        attempts = 0
        budget = self.budget()
        reset = BUDGET.set(budget)
        try:
            for attempt in self.retrying(idempotent=idempotent, budget=budget):
                with attempt:
                    attempts += 1
                    self._attempted(kind)
                    response = send()
                    if self.should_retry_status(response.status_code, idempotent=idempotent):
                        raise RetryableResponse(response)
                    return response
        except RetryableResponse as exc:
            self._giving_up(attempts, exc)
            return exc.response
        except httpx.TransportError as exc:
            self._giving_up(attempts, exc)
            raise transport_error(exc, attempts=attempts) from exc
        finally:
            BUDGET.reset(reset)
        raise AssertionError("unreachable")  # pragma: no cover

    async def acall(
        self, send: Callable[[], Awaitable[httpx.Response]], *, idempotent: bool, kind: str = "request"
    ) -> httpx.Response:
        """Async twin of :meth:`call`."""
        attempts = 0
        budget = self.budget()
        reset = BUDGET.set(budget)
        try:
            async for attempt in self.async_retrying(idempotent=idempotent, budget=budget):
                with attempt:
                    attempts += 1
                    self._attempted(kind)
                    response = await send()
                    if self.should_retry_status(response.status_code, idempotent=idempotent):
                        raise RetryableResponse(response)
                    return response
        except RetryableResponse as exc:
            self._giving_up(attempts, exc)
            return exc.response
        except httpx.TransportError as exc:
            self._giving_up(attempts, exc)
            raise transport_error(exc, attempts=attempts) from exc
        finally:
            BUDGET.reset(reset)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempted(self, kind: str) -> None:
        if self.stats is not None:
            self.stats.attempted(kind)

    def _giving_up(self, attempts: int, exc: BaseException) -> None:
        if self.stats is not None:
            self.stats.giving_up(f"gave up after {_attempts(attempts)}: {describe_cause(exc)}")


class _StopAtBudget(tenacity.stop.stop_base):
    """Stop rather than start a wait that would end after the budget (on the budget's clock)."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.budget.remaining() - (retry_state.upcoming_sleep or 0.0) <= 0


def _attempts(count: int) -> str:
    return "1 attempt" if count == 1 else f"{count} attempts"


def transport_error(exc: httpx.TransportError, *, attempts: int = 1) -> TransportError:
    """A ``TransportError`` naming the URL (without its query), what went wrong and how often."""
    try:
        url: str | None = str(exc.request.url.copy_with(query=None))
    except RuntimeError:
        url = None
    reason = str(exc) or type(exc).__name__
    tried = f" (gave up after {_attempts(attempts)})" if attempts > 1 else ""
    if isinstance(exc, httpx.ProxyError) and reason.startswith("the proxy "):
        return TransportError(
            f"Could not reach {url or 'the server'}: {reason}{tried}. Check {describe('proxy')} and "
            "that the proxy is up and lets this host through.",
            url=url,
        )
    if isinstance(exc, httpx.TimeoutException):
        return TransportError(
            f"{url or 'The server'} timed out: {type(exc).__name__}: {reason}{tried}. Check the server "
            "is up and reachable, or raise the timeout if it is only slow.",
            url=url,
        )
    if "certificate verify failed" in reason.lower():
        return TransportError(
            f"Could not reach {url or 'the server'}: its TLS certificate is not trusted ({reason}). "
            f"If it is signed by your organisation's CA, set {describe('verify')} to the path of "
            "that CA bundle (PEM) on every worker.",
            url=url,
        )
    return TransportError(
        f"Could not reach {url or 'the server'}: {type(exc).__name__}: {reason}{tried}. Check the URL, "
        f"the network/proxy settings ({describe('proxy')}) and that the server is up.",
        url=url,
    )


def is_idempotent(method: str) -> bool:
    return method.upper() in IDEMPOTENT_METHODS


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date (RFC 9110)."""
    if not value or len(value) > MAX_RETRY_AFTER_CHARS:
        return None  # an HTTP date is 29 characters; anything far longer is not one
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())
