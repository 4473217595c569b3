"""The sensor against the sandbox: poking, "not yet", and handing over to the trigger."""

from __future__ import annotations

import pytest

try:
    from airflow.sdk.exceptions import AirflowSensorTimeout, TaskDeferred
except ImportError:  # Airflow 3.1: still in airflow.exceptions
    from airflow.exceptions import AirflowSensorTimeout, TaskDeferred  # type: ignore[attr-defined,no-redef]

from airflow_provider_rh.exceptions import ApiError, ConfigurationError, RegionHallandError
from airflow_provider_rh.sensors.regionhalland import RegionHallandApiSensor
from airflow_provider_rh.triggers.regionhalland import RegionHallandApiTrigger
from tests.triggers.support import CALLS, Checks, ready_on_second_call

pytestmark = pytest.mark.integration


def sensor(**kwargs) -> RegionHallandApiSensor:
    kwargs.setdefault("poke_interval", 0.01)
    kwargs.setdefault("timeout", 120)  # a safety bound: these sensors succeed within two pokes
    return RegionHallandApiSensor(task_id="wait", **kwargs)


def test_a_ready_endpoint_passes_on_the_first_poke(sb):
    assert sensor(path="/health").poke({}) is True


def test_the_check_gets_the_response(sb):
    assert sensor(path="/units/3", response_check=Checks.is_active).poke({}) is True
    assert sensor(path="/units/3", response_check=lambda r: r.json()["id"] == 4).poke({}) is False


def test_not_yet_then_ready(sb):
    sensor(path="/health", response_check=ready_on_second_call).execute({})
    assert CALLS["second"] == 2


def test_a_check_given_as_a_dotted_path(sb):
    sensor(path="/health", response_check="tests.triggers.support.ready_on_second_call").execute({})
    assert CALLS["second"] == 2


def test_404_is_not_yet_with_not_found_ok(sb):
    # A poke runs within what is left of the timeout, so the poke on its own gets a long one: a
    # busy machine must not turn "not yet" into a timeout.
    assert sensor(path="/units/999", not_found_ok=True, timeout=600).poke({}) is False
    wait = sensor(path="/units/999", not_found_ok=True, poke_interval=0.05, timeout=0.2)
    with pytest.raises(AirflowSensorTimeout):
        wait.execute({})


def test_404_fails_without_not_found_ok(sb):
    with pytest.raises(ApiError) as info:
        sensor(path="/units/999").execute({})
    assert info.value.status_code == 404


# -- deferrable ------------------------------------------------------------------------------
def test_deferrable_defers_to_the_trigger_when_not_ready(sb):
    wait = sensor(
        path="/health",
        query_params={"x": "1"},
        response_check=ready_on_second_call,
        not_found_ok=True,
        deferrable=True,
        poke_interval=30,
        timeout=600,
    )
    with pytest.raises(TaskDeferred) as info:
        wait.execute({})
    deferred = info.value
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout is not None
    assert deferred.timeout.total_seconds() == 600
    trigger = deferred.trigger
    assert isinstance(trigger, RegionHallandApiTrigger)
    _, kwargs = trigger.serialize()
    assert kwargs["path"] == "/health"
    assert kwargs["query_params"] == {"x": "1"}
    assert kwargs["response_check"] == "tests.triggers.support.ready_on_second_call"
    assert kwargs["not_found_ok"] is True
    assert kwargs["poke_interval"] == 30
    assert kwargs["timeout"] == 600


def test_deferrable_returns_at_once_when_already_ready(sb):
    assert sensor(path="/health", deferrable=True).execute({}) is None


def test_deferrable_refuses_a_lambda_when_the_dag_is_parsed():
    with pytest.raises(ConfigurationError, match="triggerer"):
        sensor(path="/health", response_check=lambda r: True, deferrable=True)


def test_execute_complete_maps_events_to_outcomes():
    wait = sensor(path="/health", deferrable=True)
    success = {"status": "success", "status_code": 200, "url": "u", "pokes": 3}
    assert wait.execute_complete({}, success) is None
    with pytest.raises(AirflowSensorTimeout, match="not ready"):
        wait.execute_complete({}, {"status": "error", "reason": "timeout", "message": "not ready"})
    with pytest.raises(ApiError) as info:
        wait.execute_complete(
            {}, {"status": "error", "reason": "ApiError", "message": "m", "status_code": 503, "url": "u"}
        )
    assert (info.value.status_code, info.value.url) == (503, "u")
    with pytest.raises(RegionHallandError, match="bad check"):
        wait.execute_complete({}, {"status": "error", "reason": "response_check", "message": "bad check"})


def test_template_fields_render():
    wait = sensor(
        path="/units/{{ unit }}",
        query_params={"limit": "{{ n }}"},
        headers={"X-Run": "{{ run }}"},
        json={"q": "{{ run }}"},
        resource="{{ res }}",
        scopes="{{ res }}.read",
    )
    wait.render_template_fields({"unit": 7, "n": 5, "run": "r1", "res": "hsainfoapi"})
    assert wait.path == "/units/7"
    assert wait.query_params == {"limit": "5"}
    assert wait.headers == {"X-Run": "r1"}
    assert wait.json == {"q": "r1"}
    assert (wait.resource, wait.scopes) == ("hsainfoapi", "hsainfoapi.read")
