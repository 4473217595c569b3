"""One daily run fanned out over every list route of the API and both halves of the day.

Twelve mapped task instances on two Celery workers of two slots each: both workers must take
some, which the test reads from the task instances' host names.
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
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef,assignment,unused-ignore]

LANDING = os.environ["RH_LANDING_BASE"].rstrip("/")
DAY = dt.datetime(2026, 1, 3, tzinfo=dt.timezone.utc)

#: (name, path, pagination, records_path, extra query parameters): one per route.
ROUTES = [
    ("next_link", "/units", NextLinkPagination("next"), "items", {}),
    ("link_header", "/units/link", LinkHeaderPagination(), None, {}),
    ("cursor", "/units/cursor", CursorPagination("cursor", cursor_param="cursor"), "items", {}),
    ("offset", "/units/offset", OffsetPagination(limit=100, total_path="total"), "items", {}),
    ("pages", "/units/pages", PageNumberPagination(page_size=100, total_path="totalCount"), "items", {}),
    ("odata", "/units/odata", NextLinkPagination("@odata.nextLink"), "value", {"$top": 100}),
]
NOON = "{{ data_interval_start.add(hours=12) | ts }}"
HALVES = [
    ("am", "{{ data_interval_start | ts }}", NOON),
    ("pm", NOON, "{{ data_interval_end | ts }}"),
]

with DAG(
    dag_id="deploy_mapped",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=DAY,
    end_date=DAY,
    catchup=True,
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=10)},
    tags=["deploy-test"],
) as dag:
    RegionHallandApiToStorageOperator.partial(
        task_id="pull_route",
        format="ndjson",
        map_index_template="{{ task.destination.rsplit('/', 1)[-1] }}",
    ).expand_kwargs(
        [
            {
                "path": path,
                "pagination": pagination,
                "records_path": records_path,
                "query_params": {"updatedSince": since, "updatedBefore": before, **extra},
                "destination": f"{LANDING}/mapped/{name}-{half}.ndjson",
            }
            for name, path, pagination, records_path, extra in ROUTES
            for half, since, before in HALVES
        ]
    )
