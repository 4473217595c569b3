"""A sensor's or trigger's timeout as a bound on everything one poke does, its retries included.

The retry policy of one call waits and retries on its own (five attempts, ``Retry-After`` up
to two minutes), so a 429 storm used to hold a poke far past the sensor's timeout. Each poke
now runs with a :class:`PokeBudget`: its retry policy's total is what is left of the timeout,
each attempt's HTTP deadline is at most that, and a retry wait that would end at or after the
timeout ends the poke at once with :class:`PokeTimeout` instead of sleeping. Clock and sleep
are the caller's, so tests count attempts on fake time.

Also: the checks of ``poke_interval`` and ``timeout`` (finite, not negative, not a bool), and
:func:`safe_payload`, which makes an event payload fit to store (redacted, cut short).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from airflow_provider_rh.core.redact import redact
from airflow_provider_rh.core.retry import RetryPolicy, is_idempotent
from airflow_provider_rh.exceptions import ConfigurationError, RegionHallandError

#: The longest ``timeout`` or ``poke_interval`` accepted, in seconds (about 31 years): beyond
#: it Python's timedelta and the scheduler's date arithmetic overflow.
MAX_SECONDS = 1e9

#: The most characters of any text in a trigger event (the event is stored in the metadata DB).
MAX_EVENT_TEXT = 2000


class PokeTimeout(RegionHallandError):
    """A poke ran out of the sensor's or trigger's timeout while its call was still retrying."""


def optional_seconds(value: Any, *, name: str) -> float | None:
    """:func:`seconds`, or ``None`` for ``None`` (no limit)."""
    return None if value is None else seconds(value, name=name)


def seconds(value: Any, *, name: str) -> float:
    """``value`` (seconds or a timedelta) as finite seconds in ``[0, MAX_SECONDS]``.

    Else a ConfigurationError naming ``name``: a bool, a string, NaN, infinity or a negative.
    """
    if isinstance(value, dt.timedelta):
        number = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        raise ConfigurationError(
            f"{name} must be a number of seconds or a timedelta, got {type(value).__name__} {value!r}.",
            field=name,
        )
    if not math.isfinite(number) or not 0 <= number <= MAX_SECONDS:
        raise ConfigurationError(
            f"{name} must be finite and between 0 and {MAX_SECONDS:.0e} seconds, got {value!r}.", field=name
        )
    return number


@dataclasses.dataclass
class PokeBudget:
    """What is left of a timeout that ends at ``ends`` on ``clock`` (``None``: no timeout)."""

    ends: float | None
    clock: Callable[[], float]
    waits: int = 0
    """Retry waits of the current poke."""
    binding: bool = False
    """Whether the current poke's retry total was cut to what is left of the timeout."""

    def remaining(self) -> float | None:
        return None if self.ends is None else self.ends - self.clock()

    def spent(self) -> bool:
        remaining = self.remaining()
        return remaining is not None and remaining <= 0

    def attempt_timeout(self, configured: float) -> float:
        """The HTTP deadline of an attempt: the connection's, or less when the timeout is closer."""
        remaining = self.remaining()
        return configured if remaining is None else max(0.001, min(configured, remaining))

    def policy(
        self,
        base: RetryPolicy,
        *,
        sleep: Callable[[float], None] | None = None,
        async_sleep: Callable[[float], Awaitable[Any]] | None = None,
    ) -> RetryPolicy:
        """``base`` bounded by this budget: its total capped, its waits stopped at the timeout."""
        remaining = self.remaining()
        self.waits = 0
        self.binding = remaining is not None and remaining < base.total_seconds
        total = base.total_seconds if remaining is None else max(0.0, min(base.total_seconds, remaining))
        plain_sleep = sleep or base.sleep
        plain_async_sleep = async_sleep or base.async_sleep

        def bounded_sleep(wait: float) -> None:
            self._check_wait(wait)
            plain_sleep(wait)

        async def bounded_async_sleep(wait: float) -> None:
            self._check_wait(wait)
            await plain_async_sleep(wait)

        return dataclasses.replace(
            base, total_seconds=total, sleep=bounded_sleep, async_sleep=bounded_async_sleep
        )

    def cut_short(self, base: RetryPolicy, status_code: int, method: str) -> bool:
        """Whether a poke's final ``status_code`` is one its retries stopped on for want of time.

        The retry loop gives up on a 429 or 5xx either after its attempts or when the next wait
        would pass its total; with the total cut to the timeout, the second is the timeout.
        """
        retryable = base.should_retry_status(status_code, idempotent=is_idempotent(method))
        return retryable and self.binding and self.waits < base.attempts - 1

    def _check_wait(self, wait: float) -> None:
        remaining = self.remaining()
        if remaining is not None and wait >= remaining:
            raise PokeTimeout(
                f"The call was to be retried in {wait:g} s, but only {max(0.0, remaining):g} s of the "
                "timeout were left"
            )
        self.waits += 1


def use_policy(client: Any, tokens: Any, policy: RetryPolicy) -> None:
    """Make the API client and its token provider retry with ``policy`` (both hold one)."""
    client.retry = policy
    tokens.retry = policy


def safe_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``payload`` with every text redacted and cut to :data:`MAX_EVENT_TEXT` characters.

    A trigger event is stored in the metadata database and shown in logs and the UI: a response
    check's exception may quote the response, its headers (bearer token, subscriber key) or both.
    """
    return {key: _safe(value) for key, value in payload.items()}


def _safe(value: Any) -> Any:
    if isinstance(value, str):
        # Redaction is linear but not free: look at a generous head only. Whatever is cut off
        # here lies far beyond what is kept, so no secret cut in two can show.
        text = redact(value[: MAX_EVENT_TEXT * 32])
        if len(text) > MAX_EVENT_TEXT:
            text = f"{text[:MAX_EVENT_TEXT]}... (cut; {len(value)} characters in all)"
        return text
    if isinstance(value, Mapping):
        return {str(key): _safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(item) for item in value]
    return value
