"""Time per page, early and late in a pull: is anything growing with the number of pages?

``python -m bench.pages [--records 100000 1000000] [--only operator loop_orjson] [--sleep-ms 0]``

Runs each competitor the way ``bench.run`` does (its own process, the operator inside
``dag.test()``) with hooks that time-stamp every page: the operator's ``Progress.page``, the
orjson loop's ``orjson.loads``. Prints, per run, the mean time per page in each tenth of the
pull, the main thread's CPU over the same pages, and the garbage collections meanwhile. A
flat profile and CPU close to wall time mean nothing grows per page and nothing else in the
process competes. ``--sleep-ms`` sleeps after every page, which imitates other processes
running in between (how much more CPU the same work costs once caches are cold).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class Stamps:
    """Time stamps and main-thread CPU at every page, and collections by generation."""

    def __init__(self, sleep: float) -> None:
        self.sleep = sleep
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.collections = [0, 0, 0]
        self.gc_seconds = 0.0
        self._gc_started = 0.0

    def page(self) -> None:
        self.wall.append(time.perf_counter())
        self.cpu.append(time.thread_time())
        if self.sleep:
            time.sleep(self.sleep)

    def gc_callback(self, phase: str, info: dict[str, Any]) -> None:
        if not self.wall:
            return  # before the first page: start-up, not the pull
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.collections[info["generation"]] += 1
            self.gc_seconds += time.perf_counter() - self._gc_started

    def summary(self) -> dict[str, Any]:
        steps = [b - a for a, b in zip(self.wall, self.wall[1:], strict=False)]
        if not steps:
            return {"pages": len(self.wall)}
        tenth = max(1, len(steps) // 10)
        tenths = [steps[i : i + tenth] for i in range(0, tenth * 10, tenth) if steps[i : i + tenth]]
        span = self.wall[-1] - self.wall[0]
        return {
            "pages": len(self.wall),
            "ms_per_page_by_tenth": [round(1000 * sum(t) / len(t), 2) for t in tenths],
            "span_s": round(span, 3),
            "main_thread_cpu_s": round(self.cpu[-1] - self.cpu[0], 3),
            "sleep_s": round(self.sleep * len(steps), 3),
            "collections_by_generation": self.collections,
            "gc_s": round(self.gc_seconds, 3),
            "objects_at_end": len(gc.get_objects()),
        }


def child(name: str, argv: list[str], sleep: float) -> None:
    """Run ``bench.competitors name argv`` in this process with the page hooks installed."""
    stamps = Stamps(sleep)
    gc.callbacks.append(stamps.gc_callback)
    if name == "operator":
        from airflow_provider_rh.transfers import _progress

        original = _progress.Progress.page

        def page(self: Any, records: int, size: int) -> None:
            stamps.page()
            original(self, records, size)

        _progress.Progress.page = page  # type: ignore[method-assign]
    else:
        import orjson

        loads = orjson.loads

        def timed_loads(data: Any) -> Any:
            stamps.page()
            return loads(data)

        orjson.loads = timed_loads
    from bench.competitors import main

    sys.argv = ["bench.competitors", name, *argv]
    try:
        main()
    finally:
        print("PAGES " + json.dumps(stamps.summary()), flush=True)


def main() -> int:
    from bench.run import Server, environment, fetch_token

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument(
        "--only", nargs="*", default=["operator", "loop_orjson"], choices=["operator", "loop_orjson"]
    )
    parser.add_argument("--sleep-ms", type=float, default=0.0, help="sleep after every page")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="rh-bench-pages-"))
    server = Server()
    try:
        env = environment(tmp, server)
        env["BENCH_TOKEN"] = fetch_token(env)
        env["BENCH_PAGES_SLEEP"] = str(args.sleep_ms / 1000)
        for total in args.records:
            server.call("POST", f"/warm?total={total}")
        for total in args.records:
            for name in args.only:
                base = f"{server.url}/api/t{total}/l0"
                conn = json.loads(env["AIRFLOW_CONN_REGIONHALLAND_DEFAULT"])
                conn["host"] = base
                case_env = {**env, "AIRFLOW_CONN_REGIONHALLAND_DEFAULT": json.dumps(conn)}
                out = tmp / f"{name}-{total}.ndjson"
                command = [
                    sys.executable,
                    "-m",
                    "bench.pages",
                    "--child",
                    name,
                    "--base",
                    base,
                    "--out",
                    str(out),
                ]
                done = subprocess.run(
                    command, cwd=ROOT, env=case_env, capture_output=True, text=True, check=False
                )
                lines = done.stdout.splitlines()
                result = next((line[7:] for line in lines if line.startswith("RESULT ")), None)
                pages = next((line[6:] for line in lines if line.startswith("PAGES ")), None)
                if done.returncode != 0 or result is None or pages is None:
                    print(f"{name} {total}: exit {done.returncode}\n{done.stderr[-2000:]}", file=sys.stderr)
                    return 1
                seconds = json.loads(result)["seconds"]
                print(
                    f"{name} {total:,} records: {seconds:.3f} s, load {os.getloadavg()[0]:.1f}: {pages}",
                    flush=True,
                )
                out.unlink(missing_ok=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3:], float(os.environ.get("BENCH_PAGES_SLEEP") or 0))
    else:
        sys.exit(main())
