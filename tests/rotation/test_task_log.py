"""A real DAG run (``dag.test()``): inside the warning period every task using the connection,
the deferred sensor's trigger included, warns before its first token request."""

from __future__ import annotations

import json
import logging

import pytest

from tests.operators.test_dag_run import dag  # noqa: F401 - the fixture
from tests.triggers.support import sandbox, sb  # noqa: F401 - the fixtures

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient` is deprecated"),
]

ROTATION_LOGGER = "airflow_provider_rh.core.rotation"
OAUTH_LOGGER = "airflow_provider_rh.core.oauth"


def test_each_task_warns_at_the_start_inside_the_warning_period(dag, sb, monkeypatch, caplog):  # noqa: F811
    connection = sb.connection  # its certificate is valid for ten years: inside 3650 days
    connection["extra"]["expiry_warning_days"] = 3650
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", json.dumps(connection))
    caplog.set_level(logging.INFO, logger="airflow_provider_rh")

    dag_run = dag.test()

    assert {ti.task_id: ti.state for ti in dag_run.get_task_instances()} == {
        "get_unit": "success",
        "wait_for_health": "success",
    }
    ours = [r for r in caplog.records if r.name in (ROTATION_LOGGER, OAUTH_LOGGER)]
    warnings = [i for i, r in enumerate(ours) if r.name == ROTATION_LOGGER and r.levelno == logging.WARNING]
    tokens = [
        i for i, r in enumerate(ours) if r.name == OAUTH_LOGGER and "Obtained an access token" in r.message
    ]
    # The operator, the sensor's first poke in the worker and its trigger: one warning each.
    assert len(warnings) >= 3, [r.getMessage() for r in ours]
    assert warnings[0] < tokens[0], "the warning comes before the first token request"
    for index in warnings:
        message = ours[index].getMessage()
        assert "expires soon" in message
        assert "warning from 3650 days, Expiry warning (days) (extra.expiry_warning_days)" in message
        assert "rh-register rotate" in message
