"""The whole flow the leak test watches: the hook in a task, the API operator, and a pull to storage.

The landing folder comes from ``RH_LEAK_LANDING`` (set by the test before ``dag.test()``).
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import DAG, task

from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.operators.regionhalland import RegionHallandApiOperator
from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

LANDING = os.environ.get("RH_LEAK_LANDING", "file:///tmp/rh-leak-landing").rstrip("/")

with DAG(
    dag_id="rh_leak_flow",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
) as dag:

    @task
    def use_the_hook() -> dict[str, object]:
        hook = RegionHallandHook()
        ok, message = hook.test_connection()
        units = hook.request("GET", "/units", params={"limit": 5}).json()
        return {"ok": ok, "message": message, "first": units["items"][0]["id"]}

    get_unit = RegionHallandApiOperator(task_id="get_unit", path="/units/3")
    pull = RegionHallandApiToStorageOperator(
        task_id="pull_units",
        path="/units",
        query_params={"limit": 50},
        records_path="items",
        pagination=NextLinkPagination("next"),
        destination=LANDING + "/units.ndjson.gz",
    )
    use_the_hook() >> get_unit >> pull
