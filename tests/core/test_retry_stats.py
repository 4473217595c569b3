"""RetryStats: what the calls through a policy cost, for a pull's summary and its failure log."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_rh.core.retry import RetryPolicy, RetryStats
from airflow_provider_rh.exceptions import TransportError
from tests.core._seams import Sleeps, policy

URL = "https://api.example.se/hsainfo/v1/units"


def answers(*statuses: int | type[httpx.TransportError]) -> Iterator[httpx.Response]:
    request = httpx.Request("GET", URL)
    for status in statuses:
        if isinstance(status, int):
            yield httpx.Response(
                status, request=request, headers={"Retry-After": "2"} if status == 429 else {}
            )
        else:
            raise status("connection dropped", request=request)


def counted(sleeps: Sleeps, **kwargs: object) -> tuple[RetryPolicy, RetryStats]:
    stats = RetryStats()
    return dataclasses.replace(policy(sleeps), stats=stats, **kwargs), stats  # type: ignore[arg-type]


def test_retries_are_counted_by_cause_with_their_waits() -> None:
    sleeps = Sleeps()
    retry, stats = counted(sleeps)
    sequence = answers(503, 429, 200)
    assert retry.call(lambda: next(sequence), idempotent=True).status_code == 200
    token = answers(502, 200)
    assert retry.call(lambda: next(token), idempotent=True, kind="token").status_code == 200
    assert stats.retries == 3
    assert stats.causes == {"HTTP 503": 1, "HTTP 429": 1, "HTTP 502": 1}
    assert stats.attempts == {"request": 3, "token": 2}
    assert stats.token_requests == 2
    assert stats.waited == pytest.approx(sum(sleeps))
    assert 2.0 in sleeps  # Retry-After
    assert stats.gave_up is None


def test_giving_up_is_described_and_the_last_response_returned() -> None:
    retry, stats = counted(Sleeps(), attempts=3)
    sequence = answers(503, 503, 503)
    assert retry.call(lambda: next(sequence), idempotent=True).status_code == 503
    assert stats.gave_up == "gave up after 3 attempts: HTTP 503"
    assert stats.retries == 2


def test_a_transport_error_says_how_often_it_was_tried() -> None:
    retry, stats = counted(Sleeps(), attempts=2)

    def send() -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection", request=httpx.Request("GET", URL))

    with pytest.raises(
        TransportError, match=r"RemoteProtocolError: peer closed connection \(gave up after 2 "
    ):
        retry.call(send, idempotent=True)
    assert stats.gave_up == "gave up after 2 attempts: RemoteProtocolError"


def test_the_async_twin_counts_the_same() -> None:
    retry, stats = counted(Sleeps())
    sequence = answers(500, 200)

    async def send() -> httpx.Response:
        return next(sequence)

    assert asyncio.run(retry.acall(send, idempotent=True, kind="token")).status_code == 200
    assert (stats.retries, stats.token_requests, stats.causes) == (1, 2, {"HTTP 500": 1})


def test_without_stats_nothing_is_counted() -> None:
    sequence = answers(503, 200)
    assert policy(Sleeps()).call(lambda: next(sequence), idempotent=True).status_code == 200
