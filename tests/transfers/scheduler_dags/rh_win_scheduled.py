"""DAGs that ``tests/transfers/test_windows_scheduler.py`` hands to a real scheduler.

``rh_win_catchup`` catches up Jan 1 to Jan 5 with three runs at a time; ``rh_win_backfill`` is
backfilled by ``airflow backfill create``. Both use plain ``"@daily"`` (empty data intervals) and
land ``<RH_WINDOW_LANDING>/<dag_id>/<window start>-<window end>.ndjson``.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from airflow.sdk import DAG

from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator
from airflow_provider_rh.windows import TimeWindow

LANDING = os.environ.get("RH_WINDOW_LANDING", "/tmp/rh-window-landing")
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def scheduled_dag(dag_id: str, **kwargs: Any) -> DAG:
    # A retry (a slow execution API on a busy machine) recomputes the same window.
    retries = {"retries": 2, "retry_delay": dt.timedelta(seconds=1)}
    with DAG(dag_id=dag_id, schedule="@daily", start_date=START, default_args=retries, **kwargs) as dag:
        RegionHallandApiToStorageOperator(
            task_id="pull",
            path="/units",
            window=TimeWindow("updatedSince", "updatedBefore"),
            records_path="items",
            pagination=NextLinkPagination("next"),
            destination=f"file://{LANDING}/{dag_id}/"
            + "{{ window_start | ts_nodash }}-{{ window_end | ts_nodash }}.ndjson",
        )
    return dag


catchup = scheduled_dag(
    "rh_win_catchup",
    catchup=True,
    end_date=dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc),
    max_active_runs=3,
)
# Unpaused (backfill runs of a paused DAG wait), but the end date keeps the scheduler from adding
# a run of its own for "now".
backfill = scheduled_dag(
    "rh_win_backfill", catchup=False, end_date=dt.datetime(2026, 1, 10, tzinfo=dt.timezone.utc)
)
