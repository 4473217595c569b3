"""``total_seconds`` is a bound: what is left of it caps each attempt (issue 14, class 8).

The clock is injected: each hanging attempt "takes" its whole deadline and each wait its
length, so the tests assert on the deadlines the client computed and on the number of attempts,
never on how long anything took.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from airflow_provider_rh.core.deadline import Deadline
from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.exceptions import TransportError
from tests.core._seams import Sleeps, make_client, token_response
from tests.core.test_http_bounds import TOKEN, api_client
from tests.slow_server import SlowServer, json_body, trickle_body


@pytest.fixture
def loopback() -> Iterator[Callable[[dict[str, Any]], SlowServer]]:
    """Starts loopback servers for a test (route -> behaviour) and stops them after it."""
    with ExitStack() as stack:
        yield lambda routes: stack.enter_context(SlowServer(routes).running())


class Clock:
    """A monotonic clock that moves only when told: by a wait, or by a hanging attempt."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.now += seconds


def hanging(clock: Clock, deadlines: list[float]) -> Callable[[httpx.Request], httpx.Response]:
    """Token at once; every API call hangs until its deadline, which it records."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/"):
            return token_response()
        deadline = request.extensions["timeout"]
        assert isinstance(deadline, Deadline)
        deadlines.append(deadline.seconds)
        clock.now += deadline.seconds  # the attempt hangs for all of it
        raise httpx.ReadTimeout(deadline.message(), request=request)

    return handler


def budgeted(clock: Clock, **kwargs: object) -> RetryPolicy:
    return RetryPolicy(
        clock=clock,
        sleep=clock.sleep,
        async_sleep=clock.asleep,
        rng=random.Random(0),
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_hanging_api_never_outlasts_the_total_budget():
    clock, deadlines = Clock(), []
    client = make_client(hanging(clock, deadlines), timeout=4)
    client.retry = budgeted(clock, attempts=10, total_seconds=10, backoff_initial=0.5, jitter=0)
    started = clock.now
    with pytest.raises(TransportError) as info:
        client.request("GET", "/units")
    # 4 s, wait 0.5, 4 s, wait 1: the third attempt gets the 0.5 s that are left, not 4.
    assert deadlines == [4, 4, pytest.approx(0.5)]
    assert clock.now - started <= 10
    assert "what was left of the retry budget of 10 s" in str(info.value)
    assert "gave up after 3 attempts" in str(info.value)


def test_no_attempt_starts_after_a_wait_that_would_spend_the_budget():
    clock, deadlines = Clock(), []
    client = make_client(hanging(clock, deadlines), timeout=3)
    client.retry = budgeted(clock, attempts=10, total_seconds=7, backoff_initial=4, jitter=0)
    with pytest.raises(TransportError):
        client.request("GET", "/units")
    assert deadlines == [3]  # 3 s + a 4 s wait leaves nothing for a second attempt


def test_the_async_path_has_the_same_bound():
    clock, deadlines = Clock(), []
    client = make_client(hanging(clock, deadlines), timeout=4)
    client.retry = budgeted(clock, attempts=10, total_seconds=10, backoff_initial=0.5, jitter=0)

    async def call() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(hanging(clock, deadlines))) as http:
            await client.arequest(http, "GET", "/units")

    with pytest.raises(TransportError):
        asyncio.run(call())
    assert deadlines == [4, 4, pytest.approx(0.5)]


def test_a_budget_shorter_than_the_timeout_caps_the_first_attempt():
    clock, deadlines = Clock(), []
    client = make_client(hanging(clock, deadlines), timeout=60)
    client.retry = budgeted(clock, attempts=5, total_seconds=2.5)
    with pytest.raises(TransportError):
        client.request("GET", "/units")
    assert deadlines == [2.5]


def test_a_real_hanging_server_is_cut_at_the_budget_not_the_timeout(loopback):
    server = loopback({"/token": json_body(TOKEN), "/api/units": trickle_body})
    client = api_client(server, timeout=600)  # a timeout this test would never live to see
    client.retry = RetryPolicy(attempts=3, total_seconds=0.5, sleep=Sleeps())
    with pytest.raises(TransportError) as info:
        client.request("GET", "/units")
    assert "what was left of the retry budget of 0.5 s" in str(info.value)
    assert "Timeout (seconds) (extra.timeout), is 600 s" in str(info.value)


def test_without_a_policy_an_attempt_gets_its_whole_timeout():
    assert Deadline.for_attempt(30).seconds == 30
