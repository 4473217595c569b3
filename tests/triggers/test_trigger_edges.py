"""The trigger's edges: its timeout bounds the retries inside a poke, its arguments are checked,
and what its events carry is redacted and short."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.exceptions import ConfigurationError
from airflow_provider_rh.sandbox import Faults, Sandbox, SandboxConfig
from airflow_provider_rh.triggers._budget import MAX_EVENT_TEXT, safe_payload
from airflow_provider_rh.triggers.regionhalland import RegionHallandApiTrigger
from tests.triggers.test_regionhalland_trigger import FakeTime, first_event

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def storm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox whose API answers every request 429 with ``Retry-After: 10``."""
    faults = Faults(seed=3, rate_limit_share=1.0, retry_after=10)
    config = SandboxConfig(state_dir=tmp_path_factory.mktemp("storm"), port=0, unit_count=5, faults=faults)
    with Sandbox(config) as sb:
        yield sb


@pytest.fixture
def in_storm(storm: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", storm.connection_uri_env())
    SHARED_TOKEN_CACHE.clear()
    yield storm
    SHARED_TOKEN_CACHE.clear()


def test_a_429_storm_ends_the_wait_at_the_timeout_not_after_every_retry(in_storm: Sandbox) -> None:
    """40 s of timeout, Retry-After 10 s: attempts at 0, 10, 20 and 30 s; the next wait would end at 40 s."""
    time = FakeTime()
    before = in_storm.stats.faults.get("429", 0)
    event = first_event(RegionHallandApiTrigger(path="/units/1", poke_interval=10, timeout=40), time)
    assert event["status"] == "error"
    assert event["reason"] == "timeout"
    assert event["pokes"] == 1
    assert in_storm.stats.faults.get("429", 0) - before == 4
    assert time.sleeps == [10.0, 10.0, 10.0]  # every wait on the trigger's clock, none past 40 s
    assert time.now == 30.0
    assert "only 10 s of the timeout were left" in event["message"]


def test_without_a_timeout_a_storm_ends_after_the_retry_policy_s_attempts(in_storm: Sandbox) -> None:
    time = FakeTime()
    before = in_storm.stats.faults.get("429", 0)
    event = first_event(RegionHallandApiTrigger(path="/units/1", poke_interval=1), time)
    assert event["reason"] == "ApiError"
    assert event["status_code"] == 429
    assert in_storm.stats.faults.get("429", 0) - before == 5
    assert time.sleeps == [10.0] * 4


@pytest.mark.parametrize("name", ["poke_interval", "timeout"])
@pytest.mark.parametrize(
    "value", [-1, -0.5, math.nan, math.inf, -math.inf, True, "5", 2e9, dt.timedelta(seconds=-1)]
)
def test_a_bad_interval_or_timeout_is_refused_naming_it(name: str, value: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        RegionHallandApiTrigger(path="/health", **{name: value})
    assert info.value.field == name
    assert name in str(info.value)


def test_good_intervals_and_timeouts_become_seconds() -> None:
    trigger = RegionHallandApiTrigger(path="/health", poke_interval=dt.timedelta(minutes=1), timeout=0)
    assert (trigger.poke_interval, trigger.timeout) == (60.0, 0.0)
    assert RegionHallandApiTrigger(path="/health").timeout is None


# -- what an event carries -----------------------------------------------------------------
SEEN: dict[str, str] = {}


def leaky_check(response: httpx.Response) -> bool:
    """A check whose error quotes the request's headers and the whole body, many times over."""
    SEEN.update(response.request.headers)
    raise AssertionError(f"not ready: {dict(response.request.headers)} body={response.text * 500}")


def test_a_failing_check_s_event_has_no_token_or_subscriber_key_and_is_short(sb: Sandbox) -> None:
    SEEN.clear()
    trigger = RegionHallandApiTrigger(
        path="/health", response_check="tests.triggers.test_trigger_edges.leaky_check", poke_interval=1
    )
    event = first_event(trigger)
    assert event["reason"] == "response_check"
    token = SEEN["authorization"].removeprefix("Bearer ")
    assert len(token) > 20
    assert token not in str(event)
    assert sb.subscription_key not in str(event)
    assert "not ready" in event["message"]
    assert len(event["message"]) < MAX_EVENT_TEXT + 100


def test_safe_payload_redacts_and_cuts_nested_text() -> None:
    from airflow_provider_rh.core.redact import register

    register("s3cret-subscriber-key")
    payload = safe_payload(
        {"a": "x s3cret-subscriber-key y", "b": ["Bearer abc.def"], "c": {"d": "z" * 10**6}, "n": 3}
    )
    assert payload["a"] == "x *** y"
    assert payload["b"] == ["Bearer ***"]
    assert payload["c"]["d"].endswith("(cut; 1000000 characters in all)")
    assert len(payload["c"]["d"]) < MAX_EVENT_TEXT + 50
    assert payload["n"] == 3
