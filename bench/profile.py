"""Where a pull's time goes: cProfile of the operator pulling from the bench server, by share.

``python -m bench.profile [--records 100000] [--gzip]``; with ``PYTHONPATH`` pointing at another
checkout, the same for that version (how docs/benchmarks.md shows "before" and "after").
The operator runs in this process (``execute`` without ``dag.test()``), twice: the second pull
is profiled, so imports and one-time set-up (the key, the secrets masker) are left out.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

# Functions by what they do; the first pattern found in "file:function" wins.
CATEGORIES = [
    ("Arrow: JSON read, Parquet write", ("pyarrow", "_read_lines", "write_table", "read_json")),
    (
        "digest of pages (repeat guard)",
        ("_Guard", "_digest", "_records_digest", "hashlib", "sha256", "blake2b"),
    ),
    ("JSON lines from raw records (join, compact)", ("from_raw", "'join' of 'bytes", "format")),
    ("UTF-8 check / transcoding", ("'decode' of 'bytes", "isascii", "to_utf8")),
    ("JSON encode (NDJSON)", ("encode_lines", "_formats.py", "json/encoder", "dumps", "iterencode")),
    ("JSON decode", ("Decoder.decode", "json/decoder", "json/__init__.py:loads", "raw_decode", "decode' of")),
    ("gzip / file write", ("zlib", "gzip", "write' of '_io", "CountingStream")),
    (
        "socket send and receive (incl. waiting)",
        ("recv", "select", "poll", "'send' of '_socket", "sendall", "connect"),
    ),
    ("HTTP client (httpx, httpcore, h11)", ("httpx", "httpcore", "h11")),
]


def category(key: tuple[str, int, str]) -> str:
    name = f"{key[0]}:{key[2]}"
    for label, patterns in CATEGORIES:
        if any(p in name for p in patterns):
            return label
    return "everything else"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--parquet", action="store_true", help="land Parquet instead of NDJSON")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument(
        "--code", type=Path, help="profile the package in this folder (e.g. an older checkout)"
    )
    parser.add_argument("--callers", help="also print who calls functions matching this")
    args = parser.parse_args()
    if args.code:
        # The editable install's finder would win over sys.path: take it out for this process.
        sys.meta_path[:] = [f for f in sys.meta_path if "airflow_provider_rh" not in repr(f)]
        sys.path.insert(0, str(args.code.resolve()))

    from bench.run import Server, environment, fetch_token  # noqa: F401 - fetch_token warms nothing

    tmp = Path(tempfile.mkdtemp(prefix="rh-profile-"))
    server = Server()
    try:
        env = environment(tmp, server, migrate=False)
        conn = json.loads(env["AIRFLOW_CONN_REGIONHALLAND_DEFAULT"])
        conn["host"] = f"{server.url}/api/t{args.records}/l0"
        os.environ.update(env)
        os.environ["AIRFLOW_CONN_REGIONHALLAND_DEFAULT"] = json.dumps(conn)
        server.call("POST", f"/warm?total={args.records}")

        import airflow_provider_rh
        from airflow_provider_rh.pagination import OffsetPagination
        from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

        out = tmp / ("units.parquet" if args.parquet else "units.ndjson.gz" if args.gzip else "units.ndjson")
        op = RegionHallandApiToStorageOperator(
            task_id="pull",
            path="/units",
            records_path="items",
            pagination=OffsetPagination(1000, total_path="total"),
            destination=out.as_uri(),
            format="parquet" if args.parquet else "ndjson",
        )
        # A first pull imports what execute imports and reads the key: not what is measured.
        op.execute({})  # type: ignore[arg-type]
        op = RegionHallandApiToStorageOperator(
            task_id="pull",
            path="/units",
            records_path="items",
            pagination=OffsetPagination(1000, total_path="total"),
            destination=out.as_uri(),
            format="parquet" if args.parquet else "ndjson",
        )
        gc_time = [0.0, 0.0]  # seconds in the garbage collector, start of the current collection

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                gc_time[1] = time.perf_counter()
            else:
                gc_time[0] += time.perf_counter() - gc_time[1]

        gc.callbacks.append(on_gc)
        profiler = cProfile.Profile()
        profiler.enable()
        summary = op.execute({})  # type: ignore[arg-type]
        profiler.disable()
        gc.callbacks.remove(on_gc)
    finally:
        server.stop()
    stats = pstats.Stats(profiler)
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    shares: dict[str, float] = {}
    for key, value in raw.items():
        shares[category(key)] = shares.get(category(key), 0.0) + value[2]
    print(f"code: {Path(airflow_provider_rh.__file__).parent}")
    print(f"{summary['records']} records in {summary['duration_seconds']} s; profiled time {total:.2f} s\n")
    print("| where | share of the pull's time |\n|---|---:|")
    for label, seconds in sorted(shares.items(), key=lambda x: -x[1]):
        print(f"| {label} | {seconds / total:.0%} |")
    print(
        f"\nGarbage collection: {gc_time[0]:.2f} s = {gc_time[0] / total:.0%} of the pull "
        "(inside the shares above: a collection counts toward the function that triggered it)."
    )
    print("\nTop functions by own time:")
    for key, value in sorted(raw.items(), key=lambda x: -x[1][2])[: args.top]:
        print(f"  {value[2]:7.3f} s  {key[0].split('site-packages/')[-1]}:{key[1]} {key[2]}")
    if args.callers:
        stats.print_callers(args.callers)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
