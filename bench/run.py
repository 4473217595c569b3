"""Run the benchmark: every competitor as its own process, rounds in rotated order, medians.

``python -m bench.run`` (the full run: 36 minutes on 2 cores shared with five developers) or
``--quick`` (10,000 records, one round, 2-3 minutes: a smoke test that fails only on a crash or
a wrong output).
Writes ``results.json`` (every run, the medians, the ratios) to ``--results`` and prints a
Markdown table; ``python -m bench.plot`` draws the PNGs from it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.check import check
from bench.data import expected

ROOT = Path(__file__).resolve().parents[1]
#: Competitors five to ten times slower than the rest: at a million records they run
#: ``--slow-rounds`` times (default once), so a full run stays near a quarter of an hour.
SLOW = {"httpoperator", "dlt"}
RUN_TIMEOUT = 900  # seconds; a competitor that takes longer has failed


@dataclass(frozen=True)
class Case:
    """One competitor in one setting; ``key`` names it in tables and plots."""

    scenario: str
    competitor: str
    total: int
    latency_ms: int = 0
    concurrency: int = 1
    suffix: str = ".ndjson"
    gzip_level: int | None = None

    @property
    def key(self) -> str:
        label = self.competitor
        if self.concurrency > 1:
            label += f" c{self.concurrency}"
        if self.gzip_level is not None:
            label += f" gz{self.gzip_level}"
        if self.suffix == ".parquet":
            label += " parquet"
        return label


@dataclass
class Result:
    case: Case
    round: int
    seconds: float | None = None
    cpu_seconds: float | None = None
    peak_rss_mb: float | None = None
    records: int | None = None
    correct: bool = False
    stats: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def cases(quick: bool, sizes: list[int] | None = None) -> list[Case]:
    """The full matrix, or for ``quick`` every competitor once plus the operator's other paths."""
    everyone = ["operator", "loop_orjson", "loop_stdlib", "httpoperator", "dlt"]
    sizes = sizes or ([10_000] if quick else [10_000, 100_000, 1_000_000])
    big = sizes[-1]
    out = [Case("ndjson", name, n) for n in sizes for name in everyone]
    pair = ("operator",) if quick else ("operator", "loop_orjson")
    out += [Case("gzip", name, big, suffix=".ndjson.gz", gzip_level=6) for name in pair]
    out += [Case("parquet", "operator", big, suffix=".parquet")]
    if not quick:
        out += [Case("concurrent", name, big, concurrency=4) for name in pair]
    out += [
        Case("latency", name, 10_000 if quick else 100_000, latency_ms=20, concurrency=c)
        for name in pair
        for c in ((4,) if quick else (1, 4))
    ]
    return out


class Server:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.server", "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("BENCH_SERVER "):
            self.proc.kill()
            raise SystemExit(f"bench server did not start: {line!r}")
        self.url = line.split()[1]

    def call(self, method: str, path: str) -> Any:
        request = urllib.request.Request(  # noqa: S310 - http to our own loopback server
            self.url + path, method=method, data=b"" if method == "POST" else None
        )
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - our loopback server
            return json.loads(response.read())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def environment(tmp: Path, server: Server, *, migrate: bool = True) -> dict[str, str]:
    """AIRFLOW_HOME with a migrated SQLite DB, the two connections, a certificate for the hook."""
    from airflow_provider_rh.sandbox.pki import generate_private_key_pem, self_signed_certificate_pem
    from bench.server import CLIENT_ID, SUBSCRIPTION_KEY

    home = tmp / "airflow"
    home.mkdir(parents=True)
    key = generate_private_key_pem()
    host, port = server.url.removeprefix("http://").split(":")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "bench" / "dags"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "PYTHONPATH": str(ROOT),
        "AIRFLOW_CONN_BENCH_HTTP": json.dumps({"conn_type": "http", "host": host, "port": int(port)}),
        "AIRFLOW_CONN_REGIONHALLAND_DEFAULT": json.dumps(
            {
                "conn_type": "regionhalland",
                "host": f"{server.url}/api/t0/l0",  # each case sets its own, see run_case
                "login": CLIENT_ID,
                "password": SUBSCRIPTION_KEY,
                "extra": {
                    _token_extra(): f"{server.url}/adfs/oauth2/token/",
                    "certificate": self_signed_certificate_pem(key, "bench.example.se"),
                    "private_key": key,
                    "resource": "bench.example.se",
                    "scopes": "bench.read",
                },
            }
        ),
    }
    if not migrate:
        return env
    subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=600,
    )
    return env


def _token_extra() -> str:
    """``auth_url``, or ``token_url`` on a checkout from before the rename."""
    from airflow_provider_rh.core.config import KNOWN_EXTRAS

    return "auth_url" if "auth_url" in KNOWN_EXTRAS else "token_url"


def fetch_token(env: dict[str, str]) -> str:
    """A token for the competitors without an AD FS client, fetched the operator's way."""
    code = (
        "from airflow_provider_rh.hooks.regionhalland import RegionHallandHook; "
        "print(RegionHallandHook().get_token())"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"could not fetch a token from the bench server:\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def run_case(case: Case, round_: int, server: Server, env: dict[str, str], work: Path) -> Result:
    result = Result(case, round_)
    out = work / f"{case.scenario}-{case.key.replace(' ', '_')}-{case.total}{case.suffix}"
    if out.is_dir():
        shutil.rmtree(out)
    elif out.exists():
        out.unlink()
    base = f"{server.url}/api/t{case.total}/l{case.latency_ms}"
    conn = json.loads(env["AIRFLOW_CONN_REGIONHALLAND_DEFAULT"])
    conn["host"] = base
    case_env = {**env, "AIRFLOW_CONN_REGIONHALLAND_DEFAULT": json.dumps(conn)}
    command = [sys.executable, "-m", "bench.competitors", case.competitor, "--base", base, "--out", str(out)]
    command += ["--concurrency", str(case.concurrency)]
    if case.gzip_level is not None:
        command += ["--gzip-level", str(case.gzip_level)]
    server.call("POST", "/stats")
    log = work / "last-run.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(command, cwd=ROOT, env=case_env, stdout=fh, stderr=subprocess.STDOUT)
        status, usage = _wait(proc)
    result.stats = server.call("GET", "/stats")
    text = log.read_text(errors="replace")
    line = next((x for x in text.splitlines() if x.startswith("RESULT ")), None)
    if status != 0 or line is None:
        result.error = f"exit {status}: " + "\n".join(text.splitlines()[-15:])
        return result
    reported = json.loads(line[7:])
    result.seconds = reported["seconds"]
    result.cpu_seconds = reported.get("cpu_seconds")
    # The child's own high-water mark where /proc has it: a child's ru_maxrss starts at the
    # runner's RSS at fork time, which hides anything smaller.
    result.peak_rss_mb = reported.get("peak_rss_mb") or usage.ru_maxrss / 1024
    try:
        count, digest = check(out)
    except Exception as exc:  # a competitor that wrote garbage
        result.error = f"output unreadable: {exc!r}"
        return result
    want = _expected(case.total)
    result.records = count
    result.correct = (count, digest) == want
    if not result.correct:
        result.error = f"output has {count} records, checksum {digest}; expected {want[0]}, {want[1]}"
    return result


_EXPECTED: dict[int, tuple[int, int]] = {}


def _expected(total: int) -> tuple[int, int]:
    if total not in _EXPECTED:
        _EXPECTED[total] = expected(total)
    return _EXPECTED[total]


def _wait(proc: subprocess.Popen[bytes]) -> tuple[int, Any]:
    """Exit status and resource usage of this one child."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage
        if time.monotonic() > deadline:
            proc.kill()
        time.sleep(0.05)


def summarize(results: list[Result]) -> dict[str, Any]:
    groups: dict[tuple[str, int, int, str], list[Result]] = {}
    for r in results:
        groups.setdefault((r.case.scenario, r.case.total, r.case.latency_ms, r.case.key), []).append(r)
    rows = []
    for (scenario, total, latency, key), runs in groups.items():
        ok = [r for r in runs if r.correct and r.seconds is not None]
        seconds = statistics.median(r.seconds for r in ok) if ok else None  # type: ignore[misc]
        cpus = [r.cpu_seconds for r in ok if r.cpu_seconds is not None]
        cpu = statistics.median(cpus) if cpus else None
        rows.append(
            {
                "scenario": scenario,
                "total": total,
                "latency_ms": latency,
                "competitor": key,
                "runs": len(runs),
                "correct": len(ok),
                "seconds": seconds,
                "records_per_s": total / seconds if seconds else None,
                "cpu_s_per_million": cpu / total * 1e6 if cpu is not None else None,
                "peak_rss_mb": statistics.median(r.peak_rss_mb for r in ok) if ok else None,  # type: ignore[misc]
                "connections": max((r.stats.get("connections", 0) for r in ok), default=None),
                "token_requests": max((r.stats.get("token_requests", 0) for r in ok), default=None),
                "times": [round(r.seconds, 3) for r in ok if r.seconds is not None],
            }
        )
    return {"rows": rows, "ratios": ratios(rows)}


def ratios(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    def seconds(scenario: str, competitor: str, total: int | None = None) -> float | None:
        found = [
            r
            for r in rows
            if r["scenario"] == scenario
            and r["competitor"] == competitor
            and (total is None or r["total"] == total)
        ]
        found.sort(key=lambda r: r["total"])
        return found[-1]["seconds"] if found else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a and b else None

    def peak(competitor: str, total: int) -> float | None:
        found = [
            r
            for r in rows
            if r["scenario"] == "ndjson" and r["competitor"] == competitor and r["total"] == total
        ]
        return found[0]["peak_rss_mb"] if found else None

    # Every total run (any scenario) when the NDJSON rows were left out (--scenarios).
    totals = sorted({r["total"] for r in rows if r["scenario"] == "ndjson"})
    totals = totals or sorted({r["total"] for r in rows})
    small, big = (totals[0], totals[-1]) if totals else (0, 0)
    op = seconds("ndjson", "operator", big)
    small_peak, big_peak = peak("operator", small), peak("operator", big)
    at_each_size = {
        f"operator / loop_orjson (ndjson, {total:,})": ratio(
            seconds("ndjson", "operator", total), seconds("ndjson", "loop_orjson", total)
        )
        for total in totals
    }
    return {
        **at_each_size,
        "operator / loop_orjson (ndjson)": ratio(op, seconds("ndjson", "loop_orjson", big)),
        "operator / loop_orjson (gzip 6)": ratio(
            seconds("gzip", "operator gz6"), seconds("gzip", "loop_orjson gz6")
        ),
        "httpoperator / operator": ratio(seconds("ndjson", "httpoperator", big), op),
        "dlt / operator": ratio(seconds("ndjson", "dlt", big), op),
        "operator peak RSS growth, MB (largest - smallest size)": (
            round(big_peak - small_peak, 1) if big_peak and small_peak else None
        ),
        "latency 20 ms: sequential / max_concurrency=4": ratio(
            seconds("latency", "operator"), seconds("latency", "operator c4")
        ),
        "parquet / ndjson gzip 6 (operator, seconds)": ratio(
            seconds("parquet", "operator parquet"), seconds("gzip", "operator gz6")
        ),
    }


def table(summary: dict[str, Any]) -> str:
    lines = [
        "| scenario | records | latency | competitor | median s | records/s | CPU s / 1M | peak RSS MB "
        "| TCP conns | tokens | ok |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in summary["rows"]:

        def fmt(v: Any, spec: str) -> str:
            return format(v, spec) if v is not None else "-"

        lines.append(
            f"| {r['scenario']} | {r['total']:,} | {r['latency_ms']} ms | {r['competitor']} | "
            f"{fmt(r['seconds'], '.2f')} | {fmt(r['records_per_s'], ',.0f')} | "
            f"{fmt(r.get('cpu_s_per_million'), '.2f')} | {fmt(r['peak_rss_mb'], '.0f')} | "
            f"{fmt(r['connections'], 'd')} | {fmt(r['token_requests'], 'd')} | {r['correct']}/{r['runs']} |"
        )
    lines.append("")
    for name, value in summary["ratios"].items():
        lines.append(f"- {name}: {value if value is not None else '-'}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10,000 records, one round: a smoke test")
    parser.add_argument("--rounds", type=int, default=None, help="default 3 (1 with --quick)")
    parser.add_argument("--slow-rounds", type=int, default=1, help="rounds of HttpOperator and dlt at 1M")
    parser.add_argument("--only", nargs="*", help="competitors to run (default: all)")
    parser.add_argument("--scenarios", nargs="*", help="scenarios to run (default: all)")
    parser.add_argument("--sizes", nargs="*", type=int, help="record counts (default: 10k 100k 1M)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "results.json")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    todo = [
        c
        for c in cases(args.quick, args.sizes)
        if (not args.only or c.competitor in args.only)
        and (not args.scenarios or c.scenario in args.scenarios)
    ]
    tmp = Path(tempfile.mkdtemp(prefix="rh-bench-"))
    server = Server()
    results: list[Result] = []
    started = time.monotonic()
    try:
        print(f"bench server {server.url}; AIRFLOW_HOME and outputs in {tmp}", flush=True)
        env = environment(tmp, server)
        env["BENCH_TOKEN"] = fetch_token(env)
        for total in sorted({c.total for c in todo}):
            server.call("POST", f"/warm?total={total}")
        groups: dict[tuple[str, int, int], list[Case]] = {}
        for c in todo:
            groups.setdefault((c.scenario, c.total, c.latency_ms), []).append(c)
        for round_ in range(rounds):
            for group in groups.values():
                shift = round_ % len(group)
                for case in group[shift:] + group[:shift]:  # rotated: nobody always goes first
                    if case.competitor in SLOW and case.total >= 1_000_000 and round_ >= args.slow_rounds:
                        continue
                    result = run_case(case, round_, server, env, tmp)
                    results.append(result)
                    shown = f"{result.seconds:.2f} s" if result.seconds is not None else "FAILED"
                    print(
                        f"[{time.monotonic() - started:6.0f} s] round {round_ + 1}/{rounds} "
                        f"{case.scenario:10s} "
                        f"{case.total:>9,} {case.key:18s} {shown:>9s} "
                        f"{'ok' if result.correct else 'WRONG: ' + (result.error or '')}",
                        flush=True,
                    )
    finally:
        server.stop()
    summary = summarize(results)
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": _cpu_model(),
        "load_average_at_end": os.getloadavg(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "rounds": rounds,
        "duration_s": round(time.monotonic() - started),
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(
        json.dumps({"machine": machine, **summary, "runs": [_plain(r) for r in results]}, indent=1)
    )
    print(table(summary))
    print(f"\nresults: {args.results}")
    failed = [r for r in results if not r.correct]
    for r in failed:
        print(f"FAILED {r.case.scenario} {r.case.total} {r.case.key}: {r.error}", file=sys.stderr)
    if not failed:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


def _plain(result: Result) -> dict[str, Any]:
    data = asdict(result)
    data["case"]["key"] = result.case.key
    return data


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
