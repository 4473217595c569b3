"""The deferrable sensor under a real triggerer: it defers, waits there, and resumes on a worker."""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from airflow_provider_rh.sensors.regionhalland import RegionHallandApiSensor

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef,assignment,unused-ignore]

DAY = dt.datetime(2026, 1, 3, tzinfo=dt.timezone.utc)

with DAG(
    dag_id="deploy_sensor",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=DAY,
    end_date=DAY,
    catchup=True,
    tags=["deploy-test"],
) as dag:
    RegionHallandApiSensor(
        task_id="wait_for_marker",
        path="/health",
        response_check="tests_deploy.checks.marker_exists",
        deferrable=True,
        poke_interval=2,
        timeout=1800,
    )
