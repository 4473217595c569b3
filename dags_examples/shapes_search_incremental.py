"""Every day, land what changed in a POST search API since the last successful run.

The search takes its filter and its paging in a JSON body; ``InBody`` puts the offset and limit
there and keeps the rest of the body on every page. The API's only incremental handle is a
record field, ``modified``: ``Incremental`` asks from the largest value the last successful run
landed (kept in that run's XCom summary, so any worker can read it) and drops the records that
run already landed at exactly that value. See ``docs/windows.md``.

Where files land: ``RH_LANDING_BASE`` (default ``file:///tmp/rh-landing``) with
``RH_LANDING_CONN_ID`` as its connection.
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import DAG

from airflow_provider_rh.incremental import Incremental
from airflow_provider_rh.pagination import InBody, OffsetPagination
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

LANDING = os.environ.get("RH_LANDING_BASE", "file:///tmp/rh-landing").rstrip("/")
LANDING_CONN_ID = os.environ.get("RH_LANDING_CONN_ID") or None

with DAG(
    dag_id="shapes_search_incremental",
    schedule="@daily",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,  # each run starts from the mark of the one before it
    tags=["regionhalland", "shapes"],
) as dag:
    RegionHallandApiToStorageOperator(
        task_id="pull_changes",
        path="/search/units",
        method="POST",
        json={"filter": {"municipalityCodes": ["1380", "1383"]}},
        pagination=InBody(
            OffsetPagination(limit=200, total_path="total"),
            {"offset": "paging.offset", "limit": "paging.limit"},
        ),
        records_path="results",
        incremental=Incremental("modified", body_path="filter.modifiedFrom", key="id"),
        idempotent=True,  # a search only reads: retry it on 5xx like a GET
        max_concurrency=4,
        destination=LANDING + "/shapes/search/changes-{{ ts_nodash }}.ndjson.gz",
        destination_conn_id=LANDING_CONN_ID,
    )
