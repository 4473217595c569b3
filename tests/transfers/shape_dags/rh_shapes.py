"""DAGs that ``tests/transfers/test_shapes_airflow.py`` runs against the sandbox's other API shapes.

Each lands ``<RH_SHAPES_LANDING>/<dag_id>/<logical date>.ndjson`` (windowed ones by window).
``dag_run.conf["path"]`` replaces the endpoint, which is how a test makes a run fail.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from airflow.sdk import DAG, Asset, task

from airflow_provider_rh.filter_window import FilterWindow
from airflow_provider_rh.incremental import DeltaLink, Incremental
from airflow_provider_rh.pagination import InBody, NextLinkPagination, OffsetPagination
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

LANDING = os.environ.get("RH_SHAPES_LANDING", "/tmp/rh-shapes-landing")
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
BY_RUN = "{{ ts_nodash }}.ndjson"
BY_WINDOW = "{{ window_start | ts_nodash }}-{{ window_end | ts_nodash }}.ndjson"


def asset(dag_id: str) -> Asset:
    return Asset(f"file://{LANDING}/{dag_id}")


def shaped_dag(dag_id: str, path: str, name: str = BY_RUN, **pull: Any) -> DAG:
    with DAG(dag_id=dag_id, schedule="@daily", start_date=START, catchup=False, max_active_runs=1) as dag:
        RegionHallandApiToStorageOperator(
            task_id="pull",
            path="{{ dag_run.conf.get('path', '" + path + "') }}",
            destination=f"file://{LANDING}/{dag_id}/{name}",
            outlets=[asset(dag_id)],
            **pull,
        )
    return dag


SEARCH: dict[str, Any] = dict(
    method="POST",
    json={"filter": {}, "sort": "modified"},
    pagination=InBody(
        OffsetPagination(limit=20, total_path="total"), {"offset": "paging.offset", "limit": "paging.limit"}
    ),
    records_path="results",
    incremental=Incremental("modified", body_path="filter.modifiedFrom", key="id"),
    idempotent=True,
    max_concurrency=2,
)
search_hwm = shaped_dag("rh_shapes_search_hwm", "/search/units", **SEARCH)
search_hwm_clear = shaped_dag("rh_shapes_search_hwm_clear", "/search/units", **SEARCH)
odata_hwm = shaped_dag(
    "rh_shapes_odata_hwm",
    "/odata/Units",
    query_params={"$top": 50},
    pagination=NextLinkPagination("@odata.nextLink"),
    records_path="value",
    incremental=Incremental("Modified", "$filter", expression="Modified ge {mark}", key="Id"),
)
odata_window = shaped_dag(
    "rh_shapes_odata_window",
    "/odata/Units",
    BY_WINDOW,
    query_params={"$top": 100},
    pagination=NextLinkPagination("@odata.nextLink"),
    records_path="value",
    window=FilterWindow("$filter", "Modified ge {start} and Modified lt {end}"),
)
odata_delta = shaped_dag(
    "rh_shapes_odata_delta",
    "/odata/Units",
    query_params={"$top": 50},
    pagination=NextLinkPagination("@odata.nextLink"),
    records_path="value",
    delta=DeltaLink("@odata.deltaLink"),
)

# An API that says "expired" only by an error code in its body (the status is not in expired_statuses).
odata_delta_by_code = shaped_dag(
    "rh_shapes_odata_delta_by_code",
    "/odata/Units",
    query_params={"$top": 50},
    pagination=NextLinkPagination("@odata.nextLink"),
    records_path="value",
    delta=DeltaLink("@odata.deltaLink", expired_statuses=(), expired_codes=("resyncRequired",)),
)
odata_delta_no_expiry = shaped_dag(
    "rh_shapes_odata_delta_no_expiry",
    "/odata/Units",
    query_params={"$top": 50},
    pagination=NextLinkPagination("@odata.nextLink"),
    records_path="value",
    delta=DeltaLink("@odata.deltaLink", expired_statuses=()),
)

# The same file every run: each run's changes replace the last run's (warned about).
odata_delta_one_file = shaped_dag(
    "rh_shapes_odata_delta_one_file",
    "/odata/Units",
    "changes.ndjson",
    query_params={"$top": 50},
    pagination=NextLinkPagination("@odata.nextLink"),
    records_path="value",
    delta=DeltaLink("@odata.deltaLink"),
)

# One incremental pull per municipality, mapped over dag_run.conf["codes"] (in that order).
with DAG(
    dag_id="rh_shapes_search_hwm_mapped",
    schedule="@daily",
    start_date=START,
    catchup=False,
    max_active_runs=1,
) as search_hwm_mapped:

    @task
    def bodies(**context: Any) -> list[dict[str, Any]]:
        codes = (context["dag_run"].conf or {}).get("codes", ["1380", "1383"])
        return [{"filter": {"municipalityCodes": [code]}, "sort": "modified"} for code in codes]

    RegionHallandApiToStorageOperator.partial(
        task_id="pull",
        path="/search/units",
        destination=f"file://{LANDING}/rh_shapes_search_hwm_mapped/"
        + "{{ ts_nodash }}-{{ ti.map_index }}.ndjson",
        **{key: value for key, value in SEARCH.items() if key != "json"},
    ).expand(json=bodies())
