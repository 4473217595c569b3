"""The built wheel, installed as a user installs it, runs the example DAG against the sandbox.

``make wheel-test`` runs this after ``make dist``. Nothing here imports the checkout: a fresh venv
gets the wheel (not ``-e .``) and Airflow with the dependencies of its release day, and every
command runs in a temporary folder outside the checkout that holds only ``dags_examples/``. So a
file missing from the wheel, an import of a test-only module or a broken entry point fails here.

Steps: check the wheel's and sdist's file lists; make the venv; ``rh-register new`` and
``thumbprints``; start ``rh-sandbox`` from the venv on a free port; ``rh-register connection``
with the sandbox's client and ``airflow connections import`` of the file it writes; ``airflow
dags test`` of ``hsainfo_units_hourly`` on a migrated SQLite database; check the landed records.

Usage: python scripts/ci/wheel_test.py [--keep]   (run by ``make wheel-test``)
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
UV = Path(os.environ.get("UV", ROOT / ".venv" / "bin" / "uv"))
PYTHON = os.environ.get("PYTHON", "python3")
# Airflow as the matrix's newest row: the release and the day after its upload (scripts/ci/matrix.sh).
AIRFLOW = os.environ.get("WHEEL_TEST_AIRFLOW", "apache-airflow==3.3.2")
EXCLUDE_NEWER = os.environ.get("WHEEL_TEST_EXCLUDE_NEWER", "2026-09-18T00:00:00Z")
DAG_ID = "hsainfo_units_hourly"
LOGICAL_DATE = "2026-01-02T00:00:00+00:00"
# The sandbox's record i is updated at 2026-01-01 + i * 5 min (docs/sandbox.md). The hourly DAG's
# run at 2026-01-02 00:00 covers the hour before it, [2026-01-01 23:00, 2026-01-02 00:00): ids 276-287.
EXPECTED_IDS = list(range(276, 288))
NAME = "wheeltest.example.se"
READY_TIMEOUT = 120.0
# The sdist (MANIFEST.in): the package and the project's own files, none of the checkout's test
# suites, benchmarks or CI scripts (setuptools would add tests/test*.py by default).
SDIST_REQUIRED = (
    "PKG-INFO",
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "airflow_provider_rh/__init__.py",
    "airflow_provider_rh/py.typed",
    "airflow_provider_rh/sandbox/__main__.py",
)
SDIST_EXCLUDED = ("tests/", "tests_browser/", "tests_deploy/", "bench/", "scripts/", ".ci/")


_STARTED = time.monotonic()


def step(text: str) -> None:
    print(f"--- [{time.monotonic() - _STARTED:5.0f} s] {text}", flush=True)


def fail(text: str) -> None:
    raise SystemExit(f"wheel-test: FAILED: {text}")


def run(args: list[str | Path], *, env: dict[str, str], cwd: Path, timeout: float = 600) -> str:
    result = subprocess.run(
        [str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        print(result.stdout[-6000:], result.stderr[-6000:], sep="\n")
        fail(f"{' '.join(str(a) for a in args[:4])} ... exited {result.returncode}")
    return result.stdout


def check_artifacts() -> Path:
    wheels = sorted(DIST.glob("airflow_provider_rh-*.whl"))
    sdists = sorted(DIST.glob("airflow_provider_rh-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        fail(f"expected one wheel and one sdist in {DIST} (make dist), found {wheels + sdists}")
    wheel, sdist = wheels[0], sdists[0]
    names = zipfile.ZipFile(wheel).namelist()
    problems = [n for n in names if not n.startswith(("airflow_provider_rh/", "airflow_provider_rh-"))]
    if problems:
        fail(f"files outside the package in the wheel: {problems[:10]}")
    for required in ("airflow_provider_rh/py.typed", "airflow_provider_rh/sandbox/__main__.py"):
        if required not in names:
            fail(f"{required} is not in the wheel")
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
        fail("LICENSE is not in the wheel's dist-info")
    [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    for needed in ("rh-sandbox = ", "rh-register = ", "[apache_airflow_provider]"):
        if needed not in text:
            fail(f"entry point {needed.strip(' =')} is missing from the wheel")
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
    problems = sdist_problems(members)
    if problems:
        fail(f"{sdist.name}: {'; '.join(problems)}")
    print(f"{wheel.name}: {len(names)} files, LICENSE, py.typed and entry points present, no tests")
    print(f"{sdist.name}: {len(members)} entries, the package, LICENSE, README and CHANGELOG, no tests")
    return wheel


def sdist_problems(members: list[str]) -> list[str]:
    """What is wrong with an sdist's member names (``<name>-<version>/...``); empty when nothing."""
    tops = {m.split("/", 1)[0] for m in members}
    if len(tops) != 1:
        return [f"expected one top-level folder, found {sorted(tops)[:5]}"]
    [top] = tops
    inside = {m[len(top) + 1 :] for m in members if m.startswith(f"{top}/")}
    problems = [f"{name} is missing" for name in SDIST_REQUIRED if name not in inside]
    folders = {excluded.rstrip("/") for excluded in SDIST_EXCLUDED}
    shipped = sorted(
        m
        for m in inside
        if m.startswith(SDIST_EXCLUDED)
        or m.rstrip("/") in folders
        or ("/" not in m and m.startswith(("test_", "conftest")))  # loose test modules at the top
    )
    if shipped:
        problems.append(f"{len(shipped)} files of the checkout's tests/CI are in it: {shipped[:5]}")
    return problems


def make_venv(work: Path, wheel: Path) -> Path:
    venv = work / "venv"
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    run([UV, "venv", "--quiet", "--python", PYTHON, venv], env=env, cwd=work)
    # The wheel with the sandbox extra, Airflow pinned, everything else as of Airflow's release day.
    run(
        [UV, "pip", "install", "--quiet", "--python", venv / "bin" / "python",
         "--exclude-newer", EXCLUDE_NEWER, f"{wheel}[sandbox]", AIRFLOW],
        env=env, cwd=work,
    )  # fmt: skip
    return venv


def start_sandbox(bin_dir: Path, env: dict[str, str], work: Path) -> tuple[subprocess.Popen[str], Path]:
    state = work / "sandbox"
    proc = subprocess.Popen(
        [str(bin_dir / "rh-sandbox"), "--port", "0", "--state-dir", str(state), "--no-access-log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=work,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("rh-sandbox ready on "):
            return proc, state
    proc.kill()
    fail("rh-sandbox from the wheel did not say it was ready")
    raise AssertionError  # unreachable


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    started = time.monotonic()
    step("the wheel's and the sdist's files")
    wheel = check_artifacts()
    work = Path(tempfile.mkdtemp(prefix="rh-wheel-test-"))
    try:
        shutil.copytree(ROOT / "dags_examples", work / "dags", ignore=shutil.ignore_patterns("__pycache__"))
        step(f"a fresh venv with the wheel and {AIRFLOW} (dependencies as of {EXCLUDE_NEWER[:10]})")
        venv = make_venv(work, wheel)
        bin_dir = venv / "bin"
        env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "HOME": str(work),
            "AIRFLOW_HOME": str(work / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(work / "dags"),
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "RH_LANDING_BASE": (work / "landing").as_uri(),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
        where = run(
            [bin_dir / "python", "-c", "import airflow_provider_rh as p; print(p.__file__)"],
            env=env,
            cwd=work,
        )
        if not where.startswith(str(venv)):
            fail(f"the provider was imported from {where.strip()}, not from the wheel in {venv}")

        step("rh-register new, thumbprints")
        run([bin_dir / "rh-register", "new", "--name", NAME, "--out", work / "reg"], env=env, cwd=work)
        prints = run(
            [bin_dir / "rh-register", "thumbprints", work / "reg" / f"{NAME}.crt.pem"], env=env, cwd=work
        )
        if f"CN={NAME}" not in prints:
            fail(f"thumbprints did not name the certificate: {prints}")

        step("rh-sandbox from the wheel, on a free port")
        sandbox, state = start_sandbox(bin_dir, env, work)
        try:
            sandbox_conn = json.loads((state / "connection.json").read_text())
            extra = sandbox_conn["extra"]
            step("rh-register connection with the sandbox's client, airflow connections import")
            run([bin_dir / "airflow", "db", "migrate"], env=env, cwd=work)
            key_env = {**env, "RH_WHEEL_SUBSCRIBER_KEY": sandbox_conn["password"]}
            bundle = work / "client.pem"
            bundle.write_text(extra["certificate"].strip() + "\n" + extra["private_key"].strip() + "\n")
            run(
                [bin_dir / "rh-register", "connection", "--certificate-path", bundle,
                 "--client-id", sandbox_conn["login"], "--auth-url", extra["auth_url"],
                 "--host", sandbox_conn["host"], "--resource", extra["resource"],
                 "--scopes", extra["scopes"], "--test-path", extra["test_path"],
                 "--subscriber-key-env", "RH_WHEEL_SUBSCRIBER_KEY",
                 "--conn-id", "regionhalland_default", "--output", work / "connection.json"],
                env=key_env, cwd=work,
            )  # fmt: skip
            run([bin_dir / "airflow", "connections", "import", work / "connection.json"], env=env, cwd=work)
            tested = run(
                [bin_dir / "airflow", "connections", "test", "regionhalland_default"], env=env, cwd=work
            )
            if "success" not in tested.lower():
                fail(f"airflow connections test did not succeed: {tested[-2000:]}")

            step(f"airflow dags test {DAG_ID} {LOGICAL_DATE}")
            run([bin_dir / "airflow", "dags", "test", DAG_ID, LOGICAL_DATE], env=env, cwd=work)
        finally:
            sandbox.terminate()
            try:
                sandbox.wait(timeout=20)
            except subprocess.TimeoutExpired:
                sandbox.kill()

        step("the landed records")
        landed = sorted((work / "landing").rglob("*.ndjson.gz"))
        if len(landed) != 1:
            fail(f"expected one landed file, found {landed}")
        with gzip.open(landed[0], "rt", encoding="utf-8") as handle:
            ids = [json.loads(line)["id"] for line in handle if line.strip()]
        if ids != EXPECTED_IDS:
            fail(f"landed ids {ids}, expected {EXPECTED_IDS}")
        print(f"{landed[0].relative_to(work)}: ids {ids[0]}..{ids[-1]}, {len(ids)} records")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"wheel-test: passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
