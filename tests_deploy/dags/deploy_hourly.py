"""Hourly pull with catchup over twelve real data intervals (CronDataIntervalTimetable).

Each run asks for the records updated in [data_interval_start, data_interval_end) and lands
them in one file per hour; the test checks every record of those twelve hours landed once.
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import DAG

from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef,assignment,unused-ignore]

LANDING = os.environ["RH_LANDING_BASE"].rstrip("/")
START = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)

with DAG(
    dag_id="deploy_hourly",
    schedule=CronDataIntervalTimetable("@hourly", timezone="UTC"),
    start_date=START,
    # Inclusive: the interval starting at 11:00 is the twelfth and last.
    end_date=START + dt.timedelta(hours=11),
    catchup=True,
    max_active_runs=6,
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=10)},
    tags=["deploy-test"],
) as dag:
    RegionHallandApiToStorageOperator(
        task_id="pull_units",
        path="/units",
        query_params={
            "updatedSince": "{{ data_interval_start | ts }}",
            "updatedBefore": "{{ data_interval_end | ts }}",
            "limit": 25,
        },
        records_path="items",
        pagination=NextLinkPagination("next"),
        destination=LANDING + "/hourly/{{ data_interval_start.strftime('%Y%m%dT%H') }}.ndjson",
        format="ndjson",
    )
