"""The DAG ``tests/operators/test_dag_run.py`` runs with ``dag.test()``: fetch a unit, then wait
for the API's health in the triggerer (the check says "not yet" once, so the sensor defers)."""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from airflow_provider_rh.operators.regionhalland import RegionHallandApiOperator
from airflow_provider_rh.sensors.regionhalland import RegionHallandApiSensor

with DAG(
    dag_id="rh_operator_and_sensor",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    params={"unit_id": 4},
) as dag:
    get_unit = RegionHallandApiOperator(task_id="get_unit", path="/units/{{ params.unit_id }}")
    wait_for_health = RegionHallandApiSensor(
        task_id="wait_for_health",
        path="/health",
        response_check="tests.triggers.support.ready_on_second_call",
        deferrable=True,
        poke_interval=0.05,
        timeout=30,
    )
    get_unit >> wait_for_health
