"""Every day, land the OData entities modified in the day before, with a ``$filter`` window.

An OData API filters with one expression, not two parameters: ``FilterWindow`` writes each run's
window ``[start, end)`` into ``$filter`` and otherwise behaves as ``TimeWindow`` (a failed or
skipped day is covered by the next run, catchup and backfill partition time). Pages follow
``@odata.nextLink``. See ``docs/windows.md``.

Where files land: ``RH_LANDING_BASE`` (default ``file:///tmp/rh-landing``) with
``RH_LANDING_CONN_ID`` as its connection.
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import DAG

from airflow_provider_rh.filter_window import FilterWindow
from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

LANDING = os.environ.get("RH_LANDING_BASE", "file:///tmp/rh-landing").rstrip("/")
LANDING_CONN_ID = os.environ.get("RH_LANDING_CONN_ID") or None

with DAG(
    dag_id="shapes_odata_window",
    schedule="@daily",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["regionhalland", "shapes"],
) as dag:
    RegionHallandApiToStorageOperator(
        task_id="pull_units",
        path="/odata/Units",
        query_params={"$top": 500},
        window=FilterWindow("$filter", "Modified ge {start} and Modified lt {end}"),
        pagination=NextLinkPagination("@odata.nextLink"),
        records_path="value",
        destination=(
            LANDING
            + "/shapes/odata/units-{{ window_start | ts_nodash }}-{{ window_end | ts_nodash }}.ndjson.gz"
        ),
        destination_conn_id=LANDING_CONN_ID,
    )
