"""DAGs that ``tests/transfers/test_windows_airflow.py`` runs: one windowed pull per timetable.

Each lands ``<RH_WINDOW_LANDING>/<dag_id>/<window start>-<window end>.ndjson`` (read when the
file is parsed), so the files name the windows and hold what the sandbox served for them.
``dag_run.conf["path"]`` replaces the endpoint, which is how a test makes a run fail.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from airflow.sdk import DAG, Asset

from airflow_provider_rh.operators.regionhalland import RegionHallandApiOperator
from airflow_provider_rh.pagination import NextLinkPagination, OffsetPagination
from airflow_provider_rh.sensors.regionhalland import RegionHallandApiSensor
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator
from airflow_provider_rh.windows import TimeWindow

try:
    from airflow.sdk import (
        CronDataIntervalTimetable,
        CronTriggerTimetable,
        DeltaDataIntervalTimetable,
    )
except ImportError:  # Airflow 3.0
    from airflow.timetables.interval import (  # type: ignore[no-redef]
        CronDataIntervalTimetable,
        DeltaDataIntervalTimetable,
    )
    from airflow.timetables.trigger import CronTriggerTimetable  # type: ignore[no-redef]

LANDING = os.environ.get("RH_WINDOW_LANDING", "/tmp/rh-window-landing")
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
WINDOW = TimeWindow("updatedSince", "updatedBefore")
FILE = "{{ window_start | ts_nodash }}-{{ window_end | ts_nodash }}.ndjson"
PATH = "{{ dag_run.conf.get('path', '/units') }}"


def asset(dag_id: str) -> Asset:
    return Asset(f"file://{LANDING}/{dag_id}")


def windowed_dag(dag_id: str, schedule: Any, window: TimeWindow = WINDOW) -> DAG:
    with DAG(dag_id=dag_id, schedule=schedule, start_date=START, catchup=False) as dag:
        RegionHallandApiToStorageOperator(
            task_id="pull",
            path=PATH,
            window=window,
            records_path="items",
            pagination=NextLinkPagination("next"),
            destination=f"file://{LANDING}/{dag_id}/{FILE}",
            outlets=[asset(dag_id)],
        )
    return dag


daily = windowed_dag("rh_win_daily", "@daily")
trigger_interval = windowed_dag(
    "rh_win_trigger_interval", CronTriggerTimetable("@daily", timezone="UTC", interval=dt.timedelta(days=1))
)
data_interval = windowed_dag("rh_win_data_interval", CronDataIntervalTimetable("@daily", timezone="UTC"))
delta = windowed_dag("rh_win_delta", DeltaDataIntervalTimetable(dt.timedelta(days=1)))
manual = windowed_dag("rh_win_manual", None, TimeWindow("updatedSince", "updatedBefore", initial=START))
stockholm = windowed_dag("rh_win_stockholm", CronTriggerTimetable("0 0 * * *", timezone="Europe/Stockholm"))
lookback = windowed_dag(
    "rh_win_lookback", "@daily", TimeWindow("updatedSince", "updatedBefore", lookback=dt.timedelta(hours=1))
)

# The trap: the README's old snippet under a plain cron schedule. Retries would not help.
TRAP_QUERY = {
    "updatedSince": "{{ data_interval_start | ts }}",
    "updatedBefore": "{{ data_interval_end | ts }}",
}


def trap_dag(dag_id: str, *, allow: bool) -> DAG:
    retries = {"retries": 2, "retry_delay": dt.timedelta(0)}
    with DAG(dag_id=dag_id, schedule="@daily", start_date=START, catchup=False, default_args=retries) as dag:
        RegionHallandApiToStorageOperator(
            task_id="pull",
            path="/units",
            query_params=TRAP_QUERY,
            allow_empty_interval=allow,
            records_path="items",
            pagination=NextLinkPagination("next"),
            destination=f"file://{LANDING}/{dag_id}/" + "{{ ds }}.ndjson",
        )
    return dag


trap = trap_dag("rh_win_trap", allow=False)
trap_allowed = trap_dag("rh_win_trap_allowed", allow=True)

# The window in mapped tasks, in the plain operator and in the sensor.
with DAG(dag_id="rh_win_more", schedule="@daily", start_date=START, catchup=False) as more:
    RegionHallandApiToStorageOperator.partial(
        task_id="pull_mapped", window=WINDOW, records_path="items"
    ).expand_kwargs(
        [
            {
                "path": route,
                "pagination": pagination,
                "destination": f"file://{LANDING}/rh_win_more/{name}/{FILE}",
            }
            for name, route, pagination in (
                ("next", "/units", NextLinkPagination("next")),
                ("offset", "/units/offset", OffsetPagination(limit=100, total_path="total")),
            )
        ]
    )
    count = RegionHallandApiOperator(
        task_id="count",
        path="/units/offset",
        window=WINDOW,
        query_params={"limit": 1},
        response_filter=lambda body: body["total"],
    )
    ready = RegionHallandApiSensor(
        task_id="ready",
        path="/units/offset",
        window=WINDOW,
        query_params={"limit": 1},
        response_check=lambda response: response.json()["total"] > 0,
        poke_interval=0.05,
        timeout=30,
    )
    count >> ready
