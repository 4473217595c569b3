"""Benchmark: the operator's pull against a hand-written HTTP loop, same sandbox, same data.

Run: ``.venv/bin/python benchmarks/pull_vs_loop.py [--records 20000] [--rounds 3]``

Both sides fetch ``/units`` page by page (limit 100) with a bearer token and the subscriber
key, follow the ``next`` link and write gzipped NDJSON to a local file. The loop is what a
data engineer would write by hand with httpx: no retries, no progress, no atomic move. The
sandbox runs in its own process, so both measure the client plus the same server. Reports
records/s (best of ``--rounds``) and the operator's share of the loop's speed, plus the
operator's peak traced memory, which must not grow with the number of pages.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import httpx

from airflow_provider_rh.sandbox.server import parse_connection_env_line


def start_sandbox(records: int, state: Path) -> tuple[subprocess.Popen[str], dict[str, object]]:
    command = [sys.executable, "-m", "airflow_provider_rh.sandbox", "--port", "0", "--state-dir", str(state)]
    command += ["--unit-count", str(records), "--no-access-log"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        connection = parse_connection_env_line(line)
        if connection is not None:
            return proc, connection
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise SystemExit("rh-sandbox did not start")


def hand_written_loop(conn: dict[str, object], token: str, out: Path) -> int:
    """The baseline: an httpx loop following next links into a gzip file."""
    host = str(conn["host"])
    headers = {"Authorization": f"Bearer {token}", "Ocp-Apim-Subscription-Key": str(conn["password"])}
    records = 0
    with httpx.Client(headers=headers, timeout=30) as client, gzip.open(out, "wt", encoding="utf-8") as fh:
        url: str | None = f"{host}/units?limit=100"
        while url:
            page = client.get(url).raise_for_status().json()
            for record in page["items"]:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            records += len(page["items"])
            url = page["next"]
    return records


def operator_pull(out: Path, *, trace: bool = False) -> tuple[int, int]:
    from airflow_provider_rh.pagination import NextLinkPagination
    from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

    op = RegionHallandApiToStorageOperator(
        task_id="bench",
        path="/units",
        query_params={"limit": 100},
        records_path="items",
        pagination=NextLinkPagination("next"),
        destination=out.as_uri(),
    )
    if not trace:  # tracemalloc slows allocation-heavy code several times: time without it
        return int(op.execute({})["records"]), 0  # type: ignore[arg-type]
    tracemalloc.start()
    try:
        summary = op.execute({})  # type: ignore[arg-type]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return int(summary["records"]), peak


def best_rate(run: object, rounds: int) -> tuple[float, object]:
    best = 0.0
    result: object = None
    for _ in range(rounds):
        started = time.perf_counter()
        result = run()  # type: ignore[operator]
        records = result[0] if isinstance(result, tuple) else result
        best = max(best, records / (time.perf_counter() - started))
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rh-bench-"))
    os.environ.setdefault("AIRFLOW_HOME", str(tmp / "airflow"))
    proc, conn = start_sandbox(args.records, tmp / "sandbox")
    try:
        os.environ["AIRFLOW_CONN_REGIONHALLAND_DEFAULT"] = json.dumps(conn)
        from airflow_provider_rh.hooks.regionhalland import RegionHallandHook

        token = RegionHallandHook().get_token()
        loop_rate, _ = best_rate(lambda: hand_written_loop(conn, token, tmp / "loop.ndjson.gz"), args.rounds)
        op_rate, (records, _) = best_rate(lambda: operator_pull(tmp / "op.ndjson.gz"), args.rounds)  # type: ignore[misc]
        records, peak = operator_pull(tmp / "traced.ndjson.gz", trace=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    with gzip.open(tmp / "loop.ndjson.gz", "rt") as a, gzip.open(tmp / "op.ndjson.gz", "rt") as b:
        identical = [json.loads(x) for x in a] == [json.loads(y) for y in b]
    print(f"records:                 {records} in {records // 100} pages, same in both: {identical}")
    print(f"hand-written httpx loop: {loop_rate:8.0f} records/s (best of {args.rounds})")
    share = op_rate / loop_rate
    print(
        f"operator pull:           {op_rate:8.0f} records/s (best of {args.rounds}) = {share:.0%} of the loop"
    )
    print(f"operator peak memory:    {peak / 1e6:8.2f} MB traced (Python allocations)")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
