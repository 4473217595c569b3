"""Every hour, land what changed in an OData collection, following its delta link.

The first run reads the whole collection; its last page carries ``@odata.deltaLink``, kept in
the run's XCom summary. Each later run follows the link of the last successful run and gets
only the changes since (updates to old entities too), with a new link at its end. When the
API says the link has expired (410 Gone, or ``resyncRequired`` in its error body), the run
reads everything again and lands that, with a fresh link.

Where files land: ``RH_LANDING_BASE`` (default ``file:///tmp/rh-landing``) with
``RH_LANDING_CONN_ID`` as its connection.
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import DAG

from airflow_provider_rh.incremental import DeltaLink
from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

LANDING = os.environ.get("RH_LANDING_BASE", "file:///tmp/rh-landing").rstrip("/")
LANDING_CONN_ID = os.environ.get("RH_LANDING_CONN_ID") or None

with DAG(
    dag_id="shapes_odata_delta",
    schedule="@hourly",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,  # each run follows the link of the one before it
    tags=["regionhalland", "shapes"],
) as dag:
    RegionHallandApiToStorageOperator(
        task_id="pull_changes",
        path="/odata/Units",
        query_params={"$top": 500},
        pagination=NextLinkPagination("@odata.nextLink"),
        records_path="value",
        delta=DeltaLink("@odata.deltaLink", expired_codes=["resyncRequired"]),
        destination=LANDING + "/shapes/odata_delta/changes-{{ ts_nodash }}.ndjson.gz",
        destination_conn_id=LANDING_CONN_ID,
    )
