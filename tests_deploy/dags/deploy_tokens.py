"""Token requests with the worker-wide shared token cache on and off: two mapped pulls of 40 tasks.

``[regionhalland] shared_token_cache`` is a worker setting (off by default). To compare both in
one cluster at the same time, each task of the ``shared`` pull turns it on for its own task
process before it runs (``on_execute_callback`` sets the ``AIRFLOW__`` variable, which Airflow
reads when the hook first asks for a token); the ``own`` pull keeps the default. Each worker
has a token folder of its own (the cluster sets ``shared_token_cache_dir`` per worker), as two
machines would. The test counts, per pull, the token requests and cache hits the task logs show.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from airflow.sdk import DAG

from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef,assignment,unused-ignore]

LANDING = os.environ["RH_LANDING_BASE"].rstrip("/")
DAY = dt.datetime(2026, 1, 4, tzinfo=dt.timezone.utc)
TASKS = 40
SLICE = dt.timedelta(days=1) / TASKS


def share_tokens(context: Any) -> None:
    os.environ["AIRFLOW__REGIONHALLAND__SHARED_TOKEN_CACHE"] = "True"


def windows(task_id: str) -> list[dict[str, Any]]:
    return [
        {
            "query_params": {
                "updatedSince": (DAY + i * SLICE).isoformat(),
                "updatedBefore": (DAY + (i + 1) * SLICE).isoformat(),
                "limit": 100,
            },
            "destination": f"{LANDING}/tokens/{task_id}/{i:02d}.ndjson",
        }
        for i in range(TASKS)
    ]


with DAG(
    dag_id="deploy_tokens",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=DAY,
    end_date=DAY,
    catchup=True,
    default_args={"retries": 2, "retry_delay": dt.timedelta(seconds=10)},
    tags=["deploy-test"],
) as dag:
    for task_id, callback in (("shared", share_tokens), ("own", None)):
        RegionHallandApiToStorageOperator.partial(
            task_id=task_id,
            path="/units",
            records_path="items",
            pagination=NextLinkPagination("next"),
            format="ndjson",
            on_execute_callback=callback,
            map_index_template="{{ task.destination.rsplit('/', 1)[-1] }}",
        ).expand_kwargs(windows(task_id))
