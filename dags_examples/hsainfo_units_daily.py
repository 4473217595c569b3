"""Every day, land the HSA units updated since the last successful run, as one gzipped NDJSON file.

``schedule="@daily"`` is Airflow 3's ``CronTriggerTimetable``: its runs have no data interval
(start == end), so the query must not be built from ``data_interval_start``/``_end``.
``TimeWindow`` pulls ``[end of the last successful run's window, this run's logical date)``
instead: the first run the day before it, a failed or skipped day the next run, no record
twice. The file is named by the window it holds. See ``docs/windows.md``.

Where files land: ``RH_LANDING_BASE`` (default ``file:///tmp/rh-landing``) with
``RH_LANDING_CONN_ID`` as its connection (e.g. ``aws_default`` for ``s3://...``).
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import DAG

from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator
from airflow_provider_rh.windows import TimeWindow

LANDING = os.environ.get("RH_LANDING_BASE", "file:///tmp/rh-landing").rstrip("/")
LANDING_CONN_ID = os.environ.get("RH_LANDING_CONN_ID") or None

with DAG(
    dag_id="hsainfo_units_daily",
    schedule="@daily",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["regionhalland", "hsainfo"],
) as dag:
    RegionHallandApiToStorageOperator(
        task_id="pull_units",
        path="/units",
        window=TimeWindow("updatedSince", "updatedBefore"),
        records_path="items",
        pagination=NextLinkPagination("next"),
        destination=(
            LANDING + "/hsainfo/units_daily/"
            "units-{{ window_start | ts_nodash }}-{{ window_end | ts_nodash }}.ndjson.gz"
        ),
        destination_conn_id=LANDING_CONN_ID,
    )
