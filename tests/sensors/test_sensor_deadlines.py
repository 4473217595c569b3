"""The sensor's timeout bounds the retries inside a poke; its arguments are checked when parsed."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import pytest

try:
    from airflow.sdk.exceptions import AirflowSensorTimeout
except ImportError:  # Airflow 3.1: still in airflow.exceptions
    from airflow.exceptions import AirflowSensorTimeout  # type: ignore[attr-defined,no-redef]

from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.exceptions import ApiError, ConfigurationError
from airflow_provider_rh.sandbox import Faults, Sandbox, SandboxConfig
from airflow_provider_rh.sensors.regionhalland import RegionHallandApiSensor

pytestmark = pytest.mark.integration


class FakeTime:
    """The sensor's clock and retry sleep: time moves only when a retry waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


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


def on_fake_time(sensor: RegionHallandApiSensor) -> FakeTime:
    time = FakeTime()
    sensor.clock, sensor.sleep = time.clock, time.sleep
    return time


def rate_limited(sb: Sandbox) -> int:
    return sb.stats.faults.get("429", 0)


def test_a_429_storm_ends_the_poke_at_the_timeout(in_storm: Sandbox) -> None:
    """30 s of timeout, Retry-After 10 s: attempts at 0, 10 and 20 s; the next wait would end at 30 s."""
    wait = RegionHallandApiSensor(task_id="wait", path="/units/1", poke_interval=1, timeout=30)
    time = on_fake_time(wait)
    before = rate_limited(in_storm)
    with pytest.raises(
        AirflowSensorTimeout, match=r"within the timeout of 30 s: The call was to be retried in 10 s"
    ):
        wait.execute({})
    assert rate_limited(in_storm) - before == 3
    assert time.sleeps == [10.0, 10.0]
    assert time.now == 20.0


def test_a_long_timeout_leaves_the_retry_policy_its_own_bound(in_storm: Sandbox) -> None:
    wait = RegionHallandApiSensor(task_id="wait", path="/units/1", poke_interval=1, timeout=600)
    time = on_fake_time(wait)
    before = rate_limited(in_storm)
    with pytest.raises(ApiError) as info:
        wait.poke({})
    assert info.value.status_code == 429
    assert rate_limited(in_storm) - before == 5
    assert time.sleeps == [10.0] * 4


def test_each_poke_gets_only_what_is_left(in_storm: Sandbox) -> None:
    """The timeout counts from the start of the task, not of the poke: later pokes get less."""
    wait = RegionHallandApiSensor(task_id="wait", path="/units/1", poke_interval=1, timeout=100)
    time = on_fake_time(wait)
    wait._timeout_ends = 15.0  # as if execute started 85 s before
    before = rate_limited(in_storm)
    with pytest.raises(AirflowSensorTimeout):
        wait.poke({})
    assert rate_limited(in_storm) - before == 2
    assert time.sleeps == [10.0]


@pytest.mark.parametrize("name", ["poke_interval", "timeout"])
@pytest.mark.parametrize(
    "value", [-1, -0.001, math.nan, math.inf, True, "60", 1e12, dt.timedelta(seconds=-5), [1]]
)
def test_a_bad_interval_or_timeout_is_refused_when_the_dag_is_parsed(name: str, value: Any) -> None:
    with pytest.raises(ConfigurationError) as info:
        RegionHallandApiSensor(task_id="wait", path="/health", **{name: value})
    assert info.value.field == name


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="mode must be 'poke' or 'reschedule'"):
        RegionHallandApiSensor(task_id="wait", path="/health", mode="later")


def test_good_values_pass() -> None:
    wait = RegionHallandApiSensor(
        task_id="wait", path="/health", poke_interval=dt.timedelta(seconds=30), timeout=0, mode="reschedule"
    )
    assert (wait.poke_interval, wait.timeout) == (30.0, 0.0)


def test_a_poke_whose_retries_stopped_for_want_of_time_is_a_timeout_not_an_api_error() -> None:
    """The retry loop may stop on its own total (cut to the timeout) before any wait is refused."""
    from airflow_provider_rh.core.retry import RetryPolicy
    from airflow_provider_rh.triggers._budget import PokeBudget

    base = RetryPolicy(attempts=5, total_seconds=300)
    budget = PokeBudget(ends=20.0, clock=lambda: 0.0)
    budget.policy(base, sleep=lambda wait: None).sleep(10.0)  # one wait, then the loop stopped
    assert budget.cut_short(base, 429, "GET")
    assert budget.cut_short(base, 503, "GET")
    assert not budget.cut_short(base, 503, "POST")  # never retried: the answer stands
    assert not budget.cut_short(base, 404, "GET")
    for _ in range(4):
        budget.waits += 1
    assert not budget.cut_short(base, 429, "GET")  # attempts ran out: the API's answer stands
    unbounded = PokeBudget(ends=1000.0, clock=lambda: 0.0)
    unbounded.policy(base)
    assert not unbounded.cut_short(base, 429, "GET")  # the policy's own total, not the timeout
