"""Every day, land the day's HSA units from each of the API's list routes, one mapped task each.

Dynamic task mapping (``.partial(...).expand_kwargs(...)``): one task instance per partition,
here the six list routes of the hsainfo API, each with its own pagination style, retried and
rerun on its own. Each writes its own file for the day, so partitions never share state.
Partitions could as well be municipality codes or record types where the API filters on them.

Where files land: ``RH_LANDING_BASE`` (default ``file:///tmp/rh-landing``) with
``RH_LANDING_CONN_ID`` as its connection.
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import DAG

from airflow_provider_rh.pagination import (
    CursorPagination,
    LinkHeaderPagination,
    NextLinkPagination,
    OffsetPagination,
    PageNumberPagination,
)
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 3.0
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef]

LANDING = os.environ.get("RH_LANDING_BASE", "file:///tmp/rh-landing").rstrip("/")
LANDING_CONN_ID = os.environ.get("RH_LANDING_CONN_ID") or None

DAY = "{{ data_interval_start | ds }}"
WINDOW = {
    "updatedSince": "{{ data_interval_start | ts }}",
    "updatedBefore": "{{ data_interval_end | ts }}",
}

#: One partition per route: (name, path, pagination, records_path, extra query parameters).
PARTITIONS = [
    ("next_link", "/units", NextLinkPagination("next"), "items", {}),
    ("link_header", "/units/link", LinkHeaderPagination(), None, {}),
    ("cursor", "/units/cursor", CursorPagination("cursor", cursor_param="cursor"), "items", {}),
    ("offset", "/units/offset", OffsetPagination(limit=100, total_path="total"), "items", {}),
    ("pages", "/units/pages", PageNumberPagination(page_size=100, total_path="totalCount"), "items", {}),
    ("odata", "/units/odata", NextLinkPagination("@odata.nextLink"), "value", {"$top": 100}),
]

with DAG(
    dag_id="hsainfo_mapped",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    catchup=True,
    max_active_runs=2,
    default_args={"retries": 3, "retry_delay": dt.timedelta(minutes=2)},
    tags=["regionhalland", "hsainfo"],
) as dag:
    RegionHallandApiToStorageOperator.partial(
        task_id="pull_partition",
        destination_conn_id=LANDING_CONN_ID,
        max_concurrency=2,
        map_index_template="{{ task.path }}",
    ).expand_kwargs(
        [
            {
                "path": path,
                "pagination": pagination,
                "records_path": records_path,
                "query_params": {**WINDOW, **extra},
                "destination": f"{LANDING}/hsainfo/mapped/{DAY}/{name}.ndjson.gz",
            }
            for name, path, pagination, records_path, extra in PARTITIONS
        ]
    )
