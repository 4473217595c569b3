"""The trigger's async loop against the sandbox, its serialization, and how checks are imported."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import pytest

from airflow_provider_rh.exceptions import ConfigurationError
from airflow_provider_rh.triggers.regionhalland import RegionHallandApiTrigger, check_path, import_check
from tests.triggers.support import CALLS, Checks, never_ready, ready_on_second_call

pytestmark = pytest.mark.integration


class FakeTime:
    """The trigger's clock and sleep: time moves only when the trigger sleeps.

    So a timeout is a number of pokes, whatever the machine's speed; ``sleeps`` are the waits.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def first_event(trigger: RegionHallandApiTrigger, time: FakeTime | None = None) -> dict[str, Any]:
    """Run the trigger as the triggerer would, on fake time, until its first event (bounded)."""
    time = time or FakeTime()
    trigger.clock, trigger.sleep = time.clock, time.sleep

    async def first() -> Any:
        return await asyncio.wait_for(anext(trigger.run()), timeout=120)  # a safety bound only

    event = asyncio.run(first())
    assert isinstance(event.payload, dict)
    return event.payload


def test_a_ready_endpoint_gives_a_success_event_on_the_first_poke(sb):
    event = first_event(RegionHallandApiTrigger(path="/health", poke_interval=0.01, timeout=10))
    assert event["status"] == "success"
    assert event["status_code"] == 200
    assert event["url"] == f"{sb.base_url}/health"
    assert event["pokes"] == 1


def test_polls_until_the_check_passes(sb):
    tokens_before = sb.stats.tokens_issued
    trigger = RegionHallandApiTrigger(
        path="/health",
        response_check="tests.triggers.support.ready_on_second_call",
        poke_interval=0.01,
        timeout=10,
    )
    event = first_event(trigger)
    assert event["status"] == "success"
    assert event["pokes"] == 2
    assert CALLS["second"] == 2
    assert sb.stats.tokens_issued == tokens_before + 1  # one token for every poke


def test_query_params_and_a_check_reached_through_a_class(sb):
    trigger = RegionHallandApiTrigger(
        path="/units/7",
        query_params={"unused": "1"},
        response_check=check_path(Checks.is_active),
        poke_interval=0.01,
        timeout=10,
    )
    assert trigger.response_check == "tests.triggers.support.Checks.is_active"
    assert first_event(trigger)["status"] == "success"


def test_404_counts_as_not_yet_until_the_timeout(sb):
    time = FakeTime()
    trigger = RegionHallandApiTrigger(path="/units/999", not_found_ok=True, poke_interval=0.25, timeout=1.0)
    event = first_event(trigger, time)
    assert event["status"] == "error"
    assert event["reason"] == "timeout"
    assert event["pokes"] == 5  # at 0, 0.25, 0.5, 0.75 and 1.0 s
    assert time.sleeps == [0.25] * 4
    assert "/units/999" in event["message"]
    assert "1.0 s" in event["message"]


def test_a_check_that_never_passes_times_out_with_the_last_wait_cut_short(sb):
    time = FakeTime()
    trigger = RegionHallandApiTrigger(
        path="/health", response_check="tests.triggers.support.never_ready", poke_interval=0.75, timeout=1.0
    )
    event = first_event(trigger, time)
    assert event["reason"] == "timeout"
    assert event["pokes"] == 3
    assert time.sleeps == [0.75, 0.25]  # never sleeps past the timeout


def test_404_without_not_found_ok_ends_the_wait_with_the_api_error(sb):
    event = first_event(RegionHallandApiTrigger(path="/units/999", poke_interval=0.01, timeout=10))
    assert event["status"] == "error"
    assert event["reason"] == "ApiError"
    assert event["status_code"] == 404
    assert event["url"] == f"{sb.base_url}/units/999"
    assert "Check the path" in event["message"]


def test_a_check_that_raises_is_reported_not_crashed(sb):
    trigger = RegionHallandApiTrigger(
        path="/health", response_check="tests.triggers.support.broken_check", poke_interval=0.01
    )
    event = first_event(trigger)
    assert event["reason"] == "response_check"
    assert "KeyError" in event["message"]
    assert "tests.triggers.support.broken_check" in event["message"]


def test_an_unimportable_check_is_a_configuration_error_event(sb):
    event = first_event(RegionHallandApiTrigger(path="/health", response_check="tests.triggers.nope.check"))
    assert event["status"] == "error"
    assert event["reason"] == "ConfigurationError"
    assert "tests.triggers.nope.check" in event["message"]


def test_a_wrong_subscriber_key_is_an_error_event_without_the_key(sb, monkeypatch):
    import json

    conn = sb.connection
    conn["password"] = "wrong-subscriber-key-123"
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", json.dumps(conn))
    event = first_event(RegionHallandApiTrigger(path="/health"))
    assert event["status_code"] == 401
    assert "wrong-subscriber-key-123" not in str(event)


# -- serialization ---------------------------------------------------------------------------
def full_trigger() -> RegionHallandApiTrigger:
    return RegionHallandApiTrigger(
        path="/units/42",
        regionhalland_conn_id="rh_test",
        method="POST",
        query_params={"limit": 10},
        headers={"X-Request-Id": "abc"},
        json={"filter": {"city": "Halmstad"}},
        resource="hsainfoapi.regionhalland.se",
        scopes=["hsainfoapi.read", "hsainfoapi.write"],
        response_check="tests.triggers.support.never_ready",
        not_found_ok=True,
        poke_interval=30.0,
        timeout=600.0,
    )


def test_serialize_round_trips():
    from airflow.sdk.module_loading import import_string

    classpath, kwargs = full_trigger().serialize()
    assert classpath == "airflow_provider_rh.triggers.regionhalland.RegionHallandApiTrigger"
    rebuilt = import_string(classpath)(**kwargs)
    assert isinstance(rebuilt, RegionHallandApiTrigger)
    assert rebuilt.serialize() == (classpath, kwargs)


def test_serialize_survives_airflows_encoding():
    """The kwargs go through Airflow's serde (``dag.test``, the triggerer) and come back equal."""
    from airflow.sdk.serde import deserialize, serialize

    _, kwargs = full_trigger().serialize()
    assert deserialize(serialize(kwargs)) == kwargs


def test_a_subclass_serializes_under_its_own_classpath():
    class Custom(RegionHallandApiTrigger):
        pass

    classpath, _ = Custom(path="/health").serialize()
    assert classpath.endswith("test_a_subclass_serializes_under_its_own_classpath.<locals>.Custom")


# -- checks by dotted path -------------------------------------------------------------------
def test_check_path_of_a_module_level_function():
    assert check_path(ready_on_second_call) == "tests.triggers.support.ready_on_second_call"
    assert import_check("tests.triggers.support.never_ready") is never_ready
    assert check_path("any.dotted.path") == "any.dotted.path"  # imported later, where it runs


@pytest.mark.parametrize(
    "check",
    [
        pytest.param(lambda response: True, id="lambda"),
        pytest.param(functools.partial(never_ready), id="partial"),
    ],
)
def test_check_path_refuses_what_the_triggerer_cannot_import(check):
    with pytest.raises(ConfigurationError, match="triggerer") as info:
        check_path(check)
    assert info.value.field == "response_check"


def test_check_path_refuses_a_nested_function_and_one_from_a_dag_file():
    def nested(response):
        return True

    with pytest.raises(ConfigurationError, match="lambda, a nested function or a DAG file"):
        check_path(nested)

    def in_dag_file(response):
        return True

    in_dag_file.__module__ = "unusual_prefix_0123abcd_my_dag"
    in_dag_file.__qualname__ = "in_dag_file"
    with pytest.raises(ConfigurationError, match="DAG file"):
        check_path(in_dag_file)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("tests.triggers.support.missing", "has no 'missing'"),
        ("tests.triggers.support.UNIT_COUNT", "is not callable"),
        ("nosuchpackage.check", "cannot be imported"),
        ("nodots", "cannot be imported"),
    ],
)
def test_import_check_says_what_is_wrong(path, words):
    with pytest.raises(ConfigurationError, match=words):
        import_check(path)
