"""Every hour, land the HSA units updated in that hour as one gzipped NDJSON file.

Incremental by data interval: ``updatedSince`` = interval start (inclusive), ``updatedBefore`` =
interval end (exclusive), so consecutive runs neither overlap nor leave gaps, and a backfill or a
rerun of an hour replaces exactly that hour's file. Nothing is kept between tasks or runs.

Where files land: ``RH_LANDING_BASE`` (any ObjectStoragePath URL; default
``file:///tmp/rh-landing``) with ``RH_LANDING_CONN_ID`` as its connection (e.g. ``aws_default``
for ``s3://...``).
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import DAG, Asset

from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 3.0
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef]

LANDING = os.environ.get("RH_LANDING_BASE", "file:///tmp/rh-landing").rstrip("/")
LANDING_CONN_ID = os.environ.get("RH_LANDING_CONN_ID") or None

#: Named by its URI, so pointing RH_LANDING_BASE elsewhere makes another asset, not a clash.
HSAINFO_UNITS = Asset(f"{LANDING}/hsainfo/units")

with DAG(
    dag_id="hsainfo_units_hourly",
    # Data intervals (not trigger times): each run covers [start, end) of its hour.
    schedule=CronDataIntervalTimetable("@hourly", timezone="UTC"),
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    catchup=True,
    max_active_runs=4,
    default_args={"retries": 3, "retry_delay": dt.timedelta(minutes=2)},
    tags=["regionhalland", "hsainfo"],
) as dag:
    RegionHallandApiToStorageOperator(
        task_id="pull_units",
        path="/units",
        query_params={
            "updatedSince": "{{ data_interval_start | ts }}",
            "updatedBefore": "{{ data_interval_end | ts }}",
        },
        records_path="items",
        pagination=NextLinkPagination("next"),
        destination=(
            LANDING + "/hsainfo/units/{{ data_interval_start | ds }}/"
            "units-{{ data_interval_start.strftime('%H') }}.ndjson.gz"
        ),
        destination_conn_id=LANDING_CONN_ID,
        outlets=[HSAINFO_UNITS],
    )
