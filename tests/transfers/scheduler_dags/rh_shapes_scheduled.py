"""High-water-mark DAGs that ``tests/transfers/test_windows_scheduler.py`` hands to a real scheduler.

Each run first changes the sandbox's records (day ``d`` updates records ``d`` and ``d + 10`` and
adds one), then pulls what changed since the last successful pull. ``rh_hwm_catchup`` catches
up Jan 1 to Jan 5 one run at a time, and its Jan 3 pull fails (a route that does not exist);
``rh_hwm_mapped`` pulls two APIs' shapes (a POST search, an OData collection) as two map
indexes, each with its own mark, against a second sandbox (connection ``rh_mapped``), so the
two DAGs' changes do not meet. Files land in ``<RH_WINDOW_LANDING>/<dag_id>/<api>/<date>.ndjson``.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.incremental import Incremental
from airflow_provider_rh.pagination import InBody, NextLinkPagination, OffsetPagination
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

LANDING = os.environ.get("RH_WINDOW_LANDING", "/tmp/rh-window-landing")
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
RETRIES = {"retries": 2, "retry_delay": dt.timedelta(seconds=1)}

SEARCH: dict[str, Any] = {
    "path": "/search/units",
    "method": "POST",
    "json": {"filter": {}},
    "pagination": InBody(
        OffsetPagination(limit=200, total_path="total"), {"offset": "paging.offset", "limit": "paging.limit"}
    ),
    "records_path": "results",
    "incremental": Incremental("modified", body_path="filter.modifiedFrom", key="id"),
    "idempotent": True,
}
ODATA: dict[str, Any] = {
    "path": "/odata/Units",
    "query_params": {"$top": 500},
    "pagination": NextLinkPagination("@odata.nextLink"),
    "records_path": "value",
    "incremental": Incremental("Modified", "$filter", expression="Modified ge {mark}", key="Id"),
}


# Safe to retry (a change is applied once per run), and retried generously: on a loaded machine
# a task process sometimes dies before it runs (seen in "Pre Execute"), and a lost change
# would fail its run.
@task(retries=6, retry_delay=dt.timedelta(seconds=2))
def change(conn_id: str, logical_date: Any = None, run_id: str | None = None) -> dict[str, Any]:
    """Day ``d``: records ``d`` and ``d + 10`` get a new version, one record is added (once per run,
    so a retried task changes nothing twice)."""
    day = logical_date.day
    hook = RegionHallandHook(conn_id)
    body = {"update": [day, day + 10], "add": 1, "once": f"{conn_id}:{run_id}"}
    answer = hook.request("POST", "/shapes/admin/changes", json=body)
    result: dict[str, Any] = answer.json()
    return result


def destination(dag_id: str, api: str) -> str:
    return f"file://{LANDING}/{dag_id}/{api}/" + "{{ ds }}.ndjson"


with DAG(
    dag_id="rh_hwm_catchup",
    schedule="@daily",
    start_date=START,
    end_date=dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc),
    catchup=True,
    max_active_runs=1,
    default_args=RETRIES,
) as catchup:
    pull = RegionHallandApiToStorageOperator(
        task_id="pull",
        destination=destination("rh_hwm_catchup", "search"),
        **{**SEARCH, "path": "{{ '/no-such-route' if logical_date.day == 3 else '/search/units' }}"},
    )
    change("regionhalland_default") >> pull

with DAG(
    dag_id="rh_hwm_mapped",
    schedule="@daily",
    start_date=START,
    end_date=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc),
    catchup=True,
    max_active_runs=1,
    default_args=RETRIES,
) as mapped:
    pulls = RegionHallandApiToStorageOperator.partial(
        task_id="pull", map_index_template="{{ task.path }}", regionhalland_conn_id="rh_mapped"
    ).expand_kwargs(
        [
            {**SEARCH, "destination": destination("rh_hwm_mapped", "search")},
            {**ODATA, "destination": destination("rh_hwm_mapped", "odata")},
        ]
    )
    change("rh_mapped") >> pulls
