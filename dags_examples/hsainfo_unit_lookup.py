"""On demand: wait until the hsainfo API answers, then fetch one unit into XCom.

Trigger it with ``{"unit_id": 42}`` as run configuration. The sensor is deferrable: while the API
is down it waits in the triggerer, not in a worker slot. The operator's result is the unit's
JSON, kept small for XCom (``max_xcom_bytes``); big pulls use
``RegionHallandApiToStorageOperator`` instead.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from airflow_provider_rh.operators.regionhalland import RegionHallandApiOperator
from airflow_provider_rh.sensors.regionhalland import RegionHallandApiSensor

with DAG(
    dag_id="hsainfo_unit_lookup",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    params={"unit_id": 42},
    tags=["regionhalland", "hsainfo"],
) as dag:
    wait_for_api = RegionHallandApiSensor(
        task_id="wait_for_api",
        path="/health",
        deferrable=True,
        poke_interval=30,
        timeout=600,
    )
    get_unit = RegionHallandApiOperator(
        task_id="get_unit",
        path="/units/{{ params.unit_id }}",
    )
    wait_for_api >> get_unit
