"""The README's main job: sandbox up, an example DAG run by a real Airflow, data landed, sandbox down.

Idempotent: state lives in ``.demo/`` (sandbox client, Airflow home with a SQLite database,
landed files); run it again and it reuses the sandbox identity and replaces the landed file.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from airflow_provider_rh.sandbox.server import parse_connection_env_line

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / ".demo"
BIN = Path(sys.executable).parent
DAG_ID = "hsainfo_units_hourly"
LOGICAL_DATE = "2026-01-02T00:00:00+00:00"
READY_TIMEOUT = 60.0


def start_sandbox(env: dict[str, str]) -> tuple[subprocess.Popen[str], dict[str, object]]:
    """Start ``rh-sandbox`` on a free loopback port and read the connection it prints."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_rh.sandbox",
            "--port",
            "0",
            "--state-dir",
            str(DEMO / "sandbox"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT
    connection: dict[str, object] | None = None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "PRIVATE KEY" not in line and not line.removeprefix("export ").startswith("AIRFLOW_CONN_"):
            print(f"  sandbox | {line.rstrip()}")
        connection = parse_connection_env_line(line)
        if connection is not None:
            print(
                "  sandbox | export AIRFLOW_CONN_REGIONHALLAND_DEFAULT='{...}' "
                "(see .demo/sandbox/connection.json)"
            )
            break
    if connection is None:
        proc.kill()
        raise SystemExit("The sandbox did not print its connection line in time; see the output above.")
    return proc, connection


def main() -> int:
    DEMO.mkdir(exist_ok=True)
    landing = DEMO / "landing"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(DEMO / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags_examples"),
        "RH_LANDING_BASE": landing.as_uri(),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    print("1/4 starting the sandbox (a local imitation of the region's AD FS, gateway and hsainfo API)")
    sandbox, connection = start_sandbox(env)
    try:
        env["AIRFLOW_CONN_REGIONHALLAND_DEFAULT"] = json.dumps(connection)
        print("2/4 migrating Airflow's SQLite metadata database in .demo/airflow")
        subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
        print(f"3/4 airflow dags test {DAG_ID} {LOGICAL_DATE}")
        result = subprocess.run(
            [str(BIN / "airflow"), "dags", "test", DAG_ID, LOGICAL_DATE],
            env=env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            print(result.stdout[-4000:], result.stderr[-4000:], sep="\n")
            raise SystemExit(f"The DAG run failed (exit {result.returncode}); its output is above.")
    finally:
        sandbox.terminate()
        try:
            sandbox.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sandbox.kill()
    print("4/4 sandbox stopped. Landed files:")
    files = sorted(p for p in landing.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise SystemExit(f"No files landed under {landing}")
    for path in files:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
            records = sum(1 for line in handle if line.strip())
        print(f"  {path.relative_to(ROOT)}  ({records} records, {path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
