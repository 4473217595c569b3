"""A real DAG run (``dag.test()``, migrated SQLite): the operator's XCom and a deferred sensor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.sandbox.data import unit
from tests.triggers.support import CALLS

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.integration,
    # Airflow's in-process execution API imports starlette's test client, which warns about httpx.
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient` is deprecated"),
]

DAGS = Path(__file__).parent / "dags"
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"


def xcom_value(dag_run, task_id):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(
            run_id=dag_run.run_id, dag_ids=dag_run.dag_id, task_ids=task_id, key="return_value"
        )
        row = session.scalars(query).one()
        return XComModel.deserialize_value(row)


@pytest.fixture
def dag(airflow_db, monkeypatch):
    """The DAG from ``dags/``, found by ``dag.test()`` through a bundle next to the default one."""
    bundles = [
        {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
        {"name": "rh-operator-tests", "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(DAGS)}},
    ]
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
    from tests.operators.dags.rh_operator_and_sensor import dag

    return dag


def test_dag_with_operator_and_deferred_sensor(dag, sb, caplog, capsys):
    dag_run = dag.test()

    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states == {"get_unit": "success", "wait_for_health": "success"}
    assert dag_run.state == "success"
    assert xcom_value(dag_run, "get_unit") == unit(4)
    assert CALLS["second"] == 2  # once in the worker, then once in the (inline) triggerer

    token = RegionHallandHook().get_token()
    captured = capsys.readouterr()
    logs = caplog.text + captured.out + captured.err
    assert "running trigger in line" in logs
    for secret in (sb.subscription_key, token):
        assert secret not in logs
        assert secret not in json.dumps(xcom_value(dag_run, "get_unit"))
