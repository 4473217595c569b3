"""The benchmark's two Airflow DAGs, built from the environment ``bench.competitors`` sets.

``dag.test()`` runs a DAG only if Airflow finds it in a DAG bundle, so the DAGs live in this
folder (the benchmark's ``dags_folder``) rather than inside ``bench/competitors.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

from airflow.sdk import DAG

PAGE = 1000
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
BASE = os.environ.get("BENCH_BASE", "http://127.0.0.1:1/api/t0/l0")
OUT = Path(os.environ.get("BENCH_OUT", "bench-out.ndjson"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "1"))
GZIP_LEVEL = os.environ.get("BENCH_GZIP_LEVEL")


def _operator_dag() -> DAG:
    from airflow_provider_rh.pagination import OffsetPagination
    from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

    extra: dict[str, Any] = {"gzip_level": int(GZIP_LEVEL)} if GZIP_LEVEL else {}
    with DAG("bench_operator", schedule=None, start_date=START, catchup=False) as dag:
        RegionHallandApiToStorageOperator(
            task_id="pull",
            path="/units",
            records_path="items",
            pagination=OffsetPagination(PAGE, total_path="total"),
            destination=OUT.resolve().as_uri(),
            format="parquet" if OUT.suffix == ".parquet" else "ndjson",
            max_concurrency=CONCURRENCY,
            on_execute_callback=started,
            on_success_callback=finished,
            **extra,
        )
    return dag


def next_page(response: Any) -> dict[str, Any] | None:
    """HttpOperator's ``pagination_function``: the next offset, or ``None`` after the last page."""
    page = response.json()
    offset = page["offset"] + page["limit"]
    return {"data": {"offset": offset, "limit": PAGE}} if offset < page["total"] else None


_STARTED: list[float] = []
#: The process's CPU time when a task's ``execute`` began and when the task succeeded, so the
#: benchmark reports the pull's own CPU beside its own wall time (not Airflow's start-up).
CPU_MARKS: list[float] = []


def started(context: Any) -> None:
    """``on_execute_callback``: when ``execute`` begins."""
    _STARTED.append(time.perf_counter())
    CPU_MARKS.append(time.process_time())


def finished(context: Any) -> None:
    """``on_success_callback``: right after ``execute`` (and the XCom push) ended."""
    CPU_MARKS.append(time.process_time())


def write_ndjson(responses: Any) -> dict[str, Any]:
    """HttpOperator's ``response_filter``: every page's records into one NDJSON file."""
    records = 0
    with open(OUT, "wb") as fh:
        for response in responses:
            items = response.json()["items"]
            fh.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items).encode())
            records += len(items)
    return {"records": records, "duration_seconds": time.perf_counter() - _STARTED[-1]}


def _httpoperator_dag() -> DAG:
    from airflow.providers.http.operators.http import HttpOperator

    with DAG("bench_httpoperator", schedule=None, start_date=START, catchup=False) as dag:
        HttpOperator(
            task_id="pull",
            http_conn_id="bench_http",
            method="GET",
            endpoint=BASE.split("/", 3)[3] + "/units",
            data={"offset": 0, "limit": PAGE},
            headers={
                "Authorization": f"Bearer {os.environ.get('BENCH_TOKEN', '')}",
                "Ocp-Apim-Subscription-Key": "bench-subscriber-key",
            },
            pagination_function=next_page,
            response_filter=write_ndjson,
            on_execute_callback=started,
            on_success_callback=finished,
        )
    return dag


operator_dag = _operator_dag()
httpoperator_dag = _httpoperator_dag()
