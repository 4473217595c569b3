"""The competitors, each run as its own process: ``python -m bench.competitors NAME ...``.

Each pulls every page of ``{base}/units`` (offset pagination, 1,000 records a page, the total
in every page) into ``--out`` and prints one line ``RESULT {"seconds": ..., ...}`` with the time
of the pull alone, measured inside the process, start-up excluded. The Airflow operators run in
``dag.test()``; the operator's time is the ``duration_seconds`` of the summary it returns (from
the first token request to the committed file), HttpOperator's is taken the same way, from an
``on_execute_callback`` to the end of its ``response_filter``. The others are timed from the
first request to the closed file.

- ``operator``: RegionHallandApiToStorageOperator (token from the bench server's AD FS endpoint
  with a real client assertion, OffsetPagination, atomic write).
- ``loop_orjson``: the hand-tuned loop: httpx + orjson, one client, ``OPT_APPEND_NEWLINE``.
- ``loop_stdlib``: the same loop with the standard library's json.
- ``httpoperator``: Airflow's HttpOperator with ``pagination_function``, writing NDJSON in
  ``response_filter`` (what its documentation suggests for many pages).
- ``dlt``: dlt's ``rest_api`` source into the ``filesystem`` destination as jsonl.

The loops, HttpOperator and dlt send the bearer token the runner fetched (``BENCH_TOKEN``):
they have no AD FS client; the operator fetches its own, as in production.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

PAGE = 1000
DAGS = Path(__file__).resolve().parent / "dags"
SUBSCRIPTION_HEADER = "Ocp-Apim-Subscription-Key"


def _headers() -> dict[str, str]:
    from bench.server import SUBSCRIPTION_KEY

    return {"Authorization": f"Bearer {os.environ['BENCH_TOKEN']}", SUBSCRIPTION_HEADER: SUBSCRIPTION_KEY}


def _open(out: Path, gzip_level: int | None) -> IO[bytes]:
    if out.name.endswith(".gz"):
        return gzip.GzipFile(out, "wb", compresslevel=gzip_level or 6, mtime=0)
    return open(out, "wb")


def _loop(args: argparse.Namespace, loads: Any, lines: Any) -> dict[str, Any]:
    import httpx

    url = f"{args.base}/units"
    started, cpu = time.perf_counter(), time.process_time()
    records = 0
    with httpx.Client(headers=_headers(), timeout=60) as client, _open(args.out, args.gzip_level) as fh:

        def get(offset: int) -> Any:
            response = client.get(url, params={"offset": offset, "limit": PAGE})
            response.raise_for_status()
            return loads(response.content)

        first = get(0)
        total = first["total"]
        fh.write(lines(first["items"]))
        records += len(first["items"])
        offsets = range(PAGE, total, PAGE)
        if args.concurrency > 1:
            pages: Iterator[Any] = _in_order(get, offsets, args.concurrency)
        else:
            pages = map(get, offsets)
        for page in pages:
            fh.write(lines(page["items"]))
            records += len(page["items"])
    return {
        "seconds": time.perf_counter() - started,
        "records": records,
        "cpu_seconds": time.process_time() - cpu,
    }


def _in_order(get: Any, offsets: range, workers: int) -> Iterator[Any]:
    """Pages fetched ``workers`` at a time, handed out in order, at most ``workers`` held."""
    with ThreadPoolExecutor(workers) as pool:
        pending = [pool.submit(get, offset) for offset in offsets[:workers]]
        for offset in offsets[workers:]:
            yield pending.pop(0).result()
            pending.append(pool.submit(get, offset))
        for future in pending:
            yield future.result()


def loop_orjson(args: argparse.Namespace) -> dict[str, Any]:
    import orjson

    option = orjson.OPT_APPEND_NEWLINE
    return _loop(args, orjson.loads, lambda items: b"".join([orjson.dumps(r, option=option) for r in items]))


def loop_stdlib(args: argparse.Namespace) -> dict[str, Any]:
    def lines(items: list[Any]) -> bytes:
        return "".join(
            [json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in items]
        ).encode()

    return _loop(args, json.loads, lines)


def _airflow(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """Run the DAG ``name`` from ``bench/dags`` with ``dag.test()``; the task's own duration."""
    os.environ.update(
        BENCH_BASE=args.base,
        BENCH_OUT=str(args.out),
        BENCH_CONCURRENCY=str(args.concurrency),
        BENCH_GZIP_LEVEL="" if args.gzip_level is None else str(args.gzip_level),
    )
    spec = importlib.util.spec_from_file_location("bench_dags", DAGS / "bench_dags.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # CPU of every thread of the process while dag.test() runs: the task plus Airflow's start-up
    # and bookkeeping around it (kept as process_cpu_seconds; cpu_seconds is the pull's own).
    cpu = time.process_time()
    dag_run = getattr(module, f"{name}_dag").test()
    cpu = time.process_time() - cpu
    (ti,) = dag_run.get_task_instances()
    if ti.state != "success":
        raise SystemExit(f"{name} task ended {ti.state}")
    summary = _xcom(dag_run)
    marks = module.CPU_MARKS
    return {
        "seconds": summary["duration_seconds"],
        "records": summary["records"],
        "task_seconds": (ti.end_date - ti.start_date).total_seconds(),
        # The pull's CPU, over the span its wall time covers; the whole process's beside it.
        "cpu_seconds": marks[-1] - marks[-2] if len(marks) >= 2 else None,
        "process_cpu_seconds": cpu,
    }


def _xcom(dag_run: Any) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(
            run_id=dag_run.run_id, dag_ids=dag_run.dag_id, task_ids="pull", key="return_value"
        )
        return XComModel.deserialize_value(session.scalars(query).one())


def operator(args: argparse.Namespace) -> dict[str, Any]:
    return _airflow(args, "operator")


def httpoperator(args: argparse.Namespace) -> dict[str, Any]:
    return _airflow(args, "httpoperator")


def dlt_rest_api(args: argparse.Namespace) -> dict[str, Any]:
    # Keep the API's names (hsaId, not hsa_id) and stay off the network (no telemetry).
    os.environ.setdefault("SCHEMA__NAMING", "direct")
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(
        {
            "client": {"base_url": args.base + "/", "headers": _headers()},
            "resources": [
                {
                    "name": "units",
                    "endpoint": {
                        "path": "units",
                        "data_selector": "items",
                        "paginator": {
                            "type": "offset",
                            "limit": PAGE,
                            "offset_param": "offset",
                            "limit_param": "limit",
                            "total_path": "total",
                        },
                    },
                    # Keep records as they came, so the output can be checked like the others'.
                    "columns": {
                        "address": {"data_type": "json"},
                        "tags": {"data_type": "json"},
                        "updated": {"data_type": "text"},
                    },
                }
            ],
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench",
        destination=dlt.destinations.filesystem(bucket_url=args.out.resolve().as_uri()),
        dataset_name="bench",
        pipelines_dir=str(args.out.parent / ".dlt-pipelines"),
    )
    started = time.perf_counter()
    pipeline.run(source, loader_file_format="jsonl")
    return {"seconds": time.perf_counter() - started, "records": None}


def _peak_rss_mb() -> float | None:
    """This process's own peak RSS (``VmHWM``); ``ru_maxrss`` would include the parent's at fork."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


COMPETITORS = {
    "operator": operator,
    "loop_orjson": loop_orjson,
    "loop_stdlib": loop_stdlib,
    "httpoperator": httpoperator,
    "dlt": dlt_rest_api,
}


def main() -> None:
    parser = argparse.ArgumentParser(description="Run one benchmark competitor")
    parser.add_argument("name", choices=COMPETITORS)
    parser.add_argument("--base", required=True, help="the API base URL, .../api/t<total>/l<latency>")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--gzip-level", type=int, default=None)
    args = parser.parse_args()
    cpu = time.process_time()
    result = COMPETITORS[args.name](args)
    result.setdefault("cpu_seconds", time.process_time() - cpu)  # dlt: its imports included
    result["peak_rss_mb"] = _peak_rss_mb()
    print("RESULT " + json.dumps(result), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
