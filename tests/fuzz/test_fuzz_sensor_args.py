"""Property tests of the sensor's and trigger's arguments, and of a poke's time budget.

Any ``timeout``/``poke_interval``/``mode`` is either accepted as a finite, bounded number of
seconds (a known mode), or refused with a ConfigurationError naming the argument; never a bare
ValueError, OverflowError or a NaN that never ends.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.exceptions import ConfigurationError
from airflow_provider_rh.triggers._budget import MAX_SECONDS, PokeBudget, PokeTimeout
from airflow_provider_rh.triggers.regionhalland import RegionHallandApiTrigger

pytestmark = pytest.mark.fuzz

DURATIONS = st.one_of(
    st.floats(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.booleans(),
    st.timedeltas(),
    st.text(max_size=5),
    st.none(),
    st.just([1]),
)
MODES = st.one_of(st.sampled_from(["poke", "reschedule", "POKE", "", "defer"]), st.integers(), st.none())


def bounded(value: float | None, *, none_ok: bool) -> bool:
    if value is None:
        return none_ok
    return isinstance(value, float) and math.isfinite(value) and 0 <= value <= MAX_SECONDS


@given(poke_interval=DURATIONS, timeout=DURATIONS, mode=MODES)
@example(poke_interval=math.nan, timeout=1, mode="poke")
@example(poke_interval=1, timeout=-3, mode="poke")
@example(poke_interval=1e300, timeout=math.inf, mode="poke")
def test_any_sensor_arguments_are_bounded_or_refused_naming_the_argument(
    poke_interval: Any, timeout: Any, mode: Any
) -> None:
    from airflow_provider_rh.sensors.regionhalland import RegionHallandApiSensor

    kwargs = {"poke_interval": poke_interval, "timeout": timeout, "mode": mode}
    kwargs = {name: value for name, value in kwargs.items() if value is not None}
    try:
        sensor = RegionHallandApiSensor(task_id="wait", path="/health", **kwargs)
    except ConfigurationError as exc:
        field, message = exc.field, str(exc)
        assert field in kwargs
        assert field in message
        return
    assert bounded(float(sensor.poke_interval), none_ok=False)
    assert bounded(float(sensor.timeout), none_ok=False)
    assert sensor.mode in ("poke", "reschedule")


@given(poke_interval=DURATIONS, timeout=DURATIONS)
@example(poke_interval=math.nan, timeout=None)
@example(poke_interval=-1, timeout=3)
def test_any_trigger_arguments_are_bounded_or_refused_naming_the_argument(
    poke_interval: Any, timeout: Any
) -> None:
    try:
        trigger = RegionHallandApiTrigger(
            path="/health", poke_interval=60 if poke_interval is None else poke_interval, timeout=timeout
        )
    except ConfigurationError as exc:
        field = exc.field
        assert field in ("poke_interval", "timeout")
        return
    assert bounded(trigger.poke_interval, none_ok=False)
    assert bounded(trigger.timeout, none_ok=True)
    # What it serializes is what it checked, so the triggerer rebuilds the same bounded trigger.
    _, kwargs = trigger.serialize()
    assert RegionHallandApiTrigger(**kwargs).serialize()[1] == kwargs


@given(
    timeout=st.floats(min_value=0, max_value=1e6),
    waits=st.lists(st.floats(min_value=0, max_value=1e5), max_size=20),
)
@example(timeout=3.0, waits=[1.0, 1.0, 1.0])
def test_no_retry_wait_of_a_poke_ends_at_or_after_the_timeout(timeout: float, waits: list[float]) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    budget = PokeBudget(ends=timeout, clock=lambda: now[0])
    policy = budget.policy(RetryPolicy(), sleep=sleep)
    assert policy.total_seconds <= timeout
    for wait in waits:
        try:
            policy.sleep(wait)
        except PokeTimeout:
            assert now[0] + wait >= timeout  # refused only when it would reach the timeout
            break
        assert now[0] < timeout or (wait == 0 and now[0] <= timeout)
    assert now[0] <= timeout
