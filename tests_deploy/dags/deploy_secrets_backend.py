"""A pull whose connection exists only in the secrets backend (LocalFilesystemBackend), not the database."""

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
DAY = dt.datetime(2026, 1, 4, tzinfo=dt.timezone.utc)

with DAG(
    dag_id="deploy_secrets_backend",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=DAY,
    end_date=DAY,
    catchup=True,
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=10)},
    tags=["deploy-test"],
) as dag:
    RegionHallandApiToStorageOperator(
        task_id="pull_units",
        regionhalland_conn_id="regionhalland_vault",
        path="/units",
        query_params={
            "updatedSince": "{{ data_interval_start | ts }}",
            "updatedBefore": "{{ data_interval_end | ts }}",
        },
        records_path="items",
        pagination=NextLinkPagination("next"),
        destination=LANDING + "/secrets_backend/{{ ds }}.ndjson",
        format="ndjson",
    )
