"""Faults on demand, seeded so a run repeats."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from airflow_provider_rh.sandbox import Faults, Sandbox
from airflow_provider_rh.sandbox.faults import FaultInjector

from .helpers import Caller, FakeClock, start_sandbox

pytestmark = pytest.mark.integration
MIXED = Faults(seed=11, rate_limit_share=0.25, retry_after=7, server_error_share=0.25)


def statuses(sandbox: Sandbox, http: httpx.Client, count: int) -> list[int]:
    caller = Caller(sandbox, http)
    token = caller.token()
    return [caller.api("/units", token=token, params={"limit": 1}).status_code for _ in range(count)]


def test_the_injector_repeats_for_a_seed_and_keeps_faults_independent() -> None:
    def run(faults: Faults) -> list[str]:
        injector = FaultInjector(faults, started_at=0)
        return [fault.label if (fault := injector.decide()) else "ok" for _ in range(200)]

    first, again = run(MIXED), run(MIXED)
    other_seed = run(Faults(seed=12, rate_limit_share=0.25, server_error_share=0.25))
    only_429 = run(Faults(seed=11, rate_limit_share=0.25))

    assert first == again
    assert first != other_seed
    assert {"ok", "429", "500", "502", "503", "504"} <= set(first)
    # 429s fall on the same requests whether or not 5xx faults are switched on.
    assert [i for i, s in enumerate(first) if s == "429"] == [i for i, s in enumerate(only_429) if s == "429"]


def test_a_seeded_run_repeats_over_http(tmp_path: Path, http: httpx.Client) -> None:
    runs = []
    for name in ("a", "b"):
        with start_sandbox(tmp_path / name, faults=MIXED) as sandbox:
            runs.append(statuses(sandbox, http, 40))
            faults = sandbox.stats.faults

    assert runs[0] == runs[1]
    assert {200, 429} <= set(runs[0])
    assert any(status >= 500 for status in runs[0])
    assert faults["429"] == runs[1].count(429)


def test_a_429_has_retry_after(tmp_path: Path, http: httpx.Client) -> None:
    with start_sandbox(tmp_path, faults=Faults(rate_limit_share=1.0, retry_after=7)) as sandbox:
        caller = Caller(sandbox, http)
        response = caller.api("/units")
        health = caller.api("/health")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json() == {
        "statusCode": 429,
        "message": "Rate limit is exceeded. Try again in 7 seconds.",
    }
    assert health.status_code == 200


def test_a_dropped_connection_ends_mid_body(tmp_path: Path, http: httpx.Client) -> None:
    with start_sandbox(tmp_path, faults=Faults(drop_share=1.0)) as sandbox:
        caller = Caller(sandbox, http)
        token = caller.token()
        with pytest.raises(httpx.RemoteProtocolError):
            caller.api("/units", token=token)
        assert caller.api("/health", token=token).status_code == 200
        assert sandbox.stats.faults["drop"] == 1


def test_latency_delays_every_page(tmp_path: Path, http: httpx.Client) -> None:
    with start_sandbox(tmp_path, faults=Faults(latency_ms=150)) as sandbox:
        caller = Caller(sandbox, http)
        token = caller.token()
        started = time.monotonic()
        caller.api("/units", token=token)
        elapsed = time.monotonic() - started

    assert elapsed >= 0.15


def test_the_token_endpoint_is_down_for_the_first_requests(tmp_path: Path, http: httpx.Client) -> None:
    with start_sandbox(tmp_path, faults=Faults(token_outage_requests=2)) as sandbox:
        caller = Caller(sandbox, http)
        answers = [caller.token_request() for _ in range(3)]

    assert [r.status_code for r in answers] == [503, 503, 200]
    assert answers[0].headers["content-type"].startswith("text/html")
    assert sandbox.stats.faults["token_outage"] == 2


def test_the_token_endpoint_is_down_for_the_first_seconds(tmp_path: Path, http: httpx.Client) -> None:
    clock = FakeClock()
    with start_sandbox(tmp_path, clock=clock, faults=Faults(token_outage_seconds=30)) as sandbox:
        caller = Caller(sandbox, http)
        during = caller.token_request()
        clock.advance(30)
        after = caller.token_request()

    assert (during.status_code, after.status_code) == (503, 200)


def test_a_short_token_lifetime(tmp_path: Path, http: httpx.Client) -> None:
    with start_sandbox(tmp_path, token_lifetime=2) as sandbox:
        body = Caller(sandbox, http).token_request().json()

    assert body["expires_in"] == 2


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ({"rate_limit_share": 1.5}, "between 0 and 1"),
        ({"rate_limit_share": 0.6, "server_error_share": 0.6}, "must not exceed 1"),
        ({"server_error_statuses": (404,)}, "5xx"),
        ({"latency_ms": -1}, "negative"),
    ],
)
def test_impossible_faults_are_refused(faults: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Faults(**faults)  # type: ignore[arg-type]
