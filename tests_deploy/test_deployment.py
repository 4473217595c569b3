"""Run the provider where users run it: scheduled DAGs on a multi-process Airflow with Celery.

PostgreSQL (metadata), Redis (broker), the api-server, scheduler, dag-processor, triggerer and
two Celery workers, each a process of its own on loopback; the sandbox is the region's API.
The connection is saved through the REST API; a second connection lives only in a secrets
backend. DAGs are unpaused and scheduled, then the landed data, the workers used, the
sensor's deferral and the absence of secrets are checked, and timings are printed.

Needs the Debian packages from ``scripts/ci/install-services.sh`` and the ``deploy`` extra.
Run with ``make deploy-test``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from airflow_provider_rh.sandbox import data
from airflow_provider_rh.sandbox.server import parse_connection_env_line
from tests_deploy import leaks
from tests_deploy.cluster import WORKERS, AirflowCluster, rest_connection
from tests_deploy.services import Managed, Postgres, Redis, wait_until

#: Upper bounds only: the machine may be shared and slow; nothing waits longer than needed.
START_TIMEOUT = 600.0
RUN_TIMEOUT = 1200.0
STEP = dt.timedelta(seconds=60)
UNIT_COUNT = 10_000
DAGS = {  # dag id -> scheduled runs expected
    "deploy_hourly": 12,
    "deploy_mapped": 1,
    "deploy_sensor": 1,
    "deploy_secrets_backend": 1,
    "deploy_tokens": 1,
}
#: In task logs: one line per token request (core.oauth) and per shared-cache hit (core.token_store).
REQUESTED = "from the token endpoint"
#: Mapped tasks per pull in deploy_tokens (its TASKS; the DAG file needs the cluster's env to import).
TOKEN_TASKS = 40
FROM_CACHE = "taken from the shared token cache"
VAULT_CONN_ID = "regionhalland_vault"


class Sandbox:
    """``rh-sandbox`` as a process: the connection is what it prints, parsed as printed."""

    def __init__(self, root: Path) -> None:
        self.process = Managed(
            "sandbox",
            [
                sys.executable,
                "-m",
                "airflow_provider_rh.sandbox",
                "--port",
                "0",
                "--state-dir",
                str(root / "sandbox"),
                "--unit-count",
                str(UNIT_COUNT),
                "--step-seconds",
                str(int(STEP.total_seconds())),
            ],
            root / "sandbox.log",
        )
        self.connection: dict[str, Any] = {}

    def start(self) -> Sandbox:
        self.process.start()
        self.connection = wait_until(  # type: ignore[assignment]
            "rh-sandbox",
            self._printed_connection,
            timeout=START_TIMEOUT,
            alive=self.process.check_alive,
        )
        self.process.mark_ready()
        return self

    def _printed_connection(self) -> dict[str, Any] | None:
        for line in self.process.log_text().splitlines():
            if (connection := parse_connection_env_line(line)) is not None:
                return connection
        return None

    def token_requests(self) -> int:
        return sum("POST /adfs/oauth2/token" in line for line in self.process.log_text().splitlines())


def _vault_connection(connection: dict[str, Any], passphrase: str) -> dict[str, Any]:
    """The sandbox's connection with its key encrypted under ``passphrase``, for the secrets backend."""
    extra = dict(connection["extra"])
    key = serialization.load_pem_private_key(extra["private_key"].encode(), password=None)
    extra["private_key"] = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode()),
    ).decode()
    extra["private_key_passphrase"] = passphrase
    return {**connection, "extra": extra}


def _records(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _expected(since: dt.datetime, before: dt.datetime) -> list[dict[str, Any]]:
    ids = data.id_range(UNIT_COUNT, updated_since=since, updated_before=before, step=STEP)
    return [data.unit(i, step=STEP) for i in ids]


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _print_logs(paths: list[Path], lines: int = 80) -> None:
    for path in paths:
        if not path.is_file():
            continue
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        print(f"\n===== {path} (last {len(tail)} lines) =====")
        for line in tail:
            # The sandbox prints its connection (a throwaway key): never echo it.
            if "AIRFLOW_CONN_" not in line and "PRIVATE KEY" not in line:
                print(line)


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Not pytest's tmp_path: its parents are private to root, and PostgreSQL runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="rh-deploy-"))
    root.chmod(0o755)
    yield root
    if os.environ.get("RH_DEPLOY_KEEP") != "1":
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.timeout(2400)
def test_scheduled_dags_on_celery(workdir: Path) -> None:
    logs = workdir / "logs"
    landing = workdir / "landing"
    landing.mkdir()
    postgres = Postgres(workdir / "pg", logs)
    redis = Redis(workdir / "redis", logs)
    sandbox = Sandbox(workdir)
    vault_file = workdir / "secrets" / "connections.json"
    cluster = AirflowCluster(
        workdir, postgres=postgres, redis=redis, secrets_file=vault_file, landing=landing
    )
    try:
        with contextlib.ExitStack() as stack:
            stack.callback(sandbox.process.stop)
            stack.callback(postgres.stop)
            stack.callback(redis.stop)
            stack.callback(cluster.stop)
            _run(workdir, postgres, redis, sandbox, cluster, vault_file)
    except BaseException:
        _print_logs([sandbox.process.log, *cluster.log_files(), postgres.process.log, redis.process.log])
        print(f"\nEverything is in {workdir} (kept: set RH_DEPLOY_KEEP=1 to keep it after a pass too)")
        os.environ["RH_DEPLOY_KEEP"] = "1"
        raise


def _run(
    workdir: Path,
    postgres: Postgres,
    redis: Redis,
    sandbox: Sandbox,
    cluster: AirflowCluster,
    vault_file: Path,
) -> None:
    report: list[tuple[str, str]] = []
    landing = cluster.landing
    postgres.start(START_TIMEOUT)
    redis.start(START_TIMEOUT)
    sandbox.start()
    connection = sandbox.connection
    passphrase = "deploy-" + os.urandom(12).hex()
    vault_connection = _vault_connection(connection, passphrase)
    vault_file.parent.mkdir()
    vault_file.write_text(json.dumps({VAULT_CONN_ID: vault_connection}))
    cluster.migrate(START_TIMEOUT)
    cluster.start(START_TIMEOUT)

    with cluster.client() as api:
        # As the UI saves it: one POST with the fields and the extra as a JSON string.
        created = api.post("/connections", json=rest_connection("regionhalland_default", connection))
        assert created.status_code == 201, created.text
        shown = api.get("/connections/regionhalland_default").text
        assert connection["password"] not in shown
        assert connection["extra"]["private_key"].splitlines()[1] not in shown
        # The vault connection exists only in the secrets backend.
        assert api.get(f"/connections/{VAULT_CONN_ID}").status_code == 404

        wait_until(
            "DAGs parsed", lambda: _parsed(api, cluster), timeout=START_TIMEOUT, alive=cluster.check_alive
        )
        unpaused_at = time.monotonic()
        for dag_id in DAGS:
            patched = api.patch(f"/dags/{dag_id}", json={"is_paused": False})
            assert patched.status_code == 200, patched.text

        # The sensor must reach the triggerer before it may succeed: we let it only then.
        sensor_ti: dict[str, Any] = wait_until(  # type: ignore[assignment]
            "deploy_sensor deferred",
            lambda: _deferred(api),
            timeout=RUN_TIMEOUT,
            interval=1.0,
            alive=cluster.check_alive,
        )
        cluster.marker.touch()

        first_file: list[float] = []

        def all_done() -> bool:
            if not first_file and any(p.is_file() and not p.name.startswith(".") for p in landing.rglob("*")):
                first_file.append(time.monotonic() - unpaused_at)
            return all(_runs_done(api, dag_id, count) for dag_id, count in DAGS.items())

        wait_until("all DAG runs", all_done, timeout=RUN_TIMEOUT, interval=2.0, alive=cluster.check_alive)
        all_done()
        runs = {dag_id: _get(api, f"/dags/{dag_id}/dagRuns", limit=100)["dag_runs"] for dag_id in DAGS}
        tis = {
            dag_id: _get(api, f"/dags/{dag_id}/dagRuns/~/taskInstances", limit=100)["task_instances"]
            for dag_id in DAGS
        }
    cluster.stop()

    # --- the data: every record of every window, once ----------------------------------------
    hourly = sorted(runs["deploy_hourly"], key=lambda r: r["data_interval_start"])
    windows = [(_when(r["data_interval_start"]), _when(r["data_interval_end"])) for r in hourly]
    assert len(windows) >= 12
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows)), "gaps or overlaps"
    landed: list[dict[str, Any]] = []
    for since, before in windows:
        records = _records(landing / "hourly" / f"{since:%Y%m%dT%H}.ndjson")
        assert records == _expected(since, before), f"hour {since} differs from the sandbox's data"
        landed.extend(records)
    ids = [r["id"] for r in landed]
    assert len(ids) == len(set(ids)) == len(_expected(windows[0][0], windows[-1][1]))

    day = _when(runs["deploy_mapped"][0]["data_interval_start"])
    noon = day + dt.timedelta(hours=12)
    for name in ("next_link", "link_header", "cursor", "offset", "pages", "odata"):
        for half, since, before in (("am", day, noon), ("pm", noon, day + dt.timedelta(days=1))):
            assert _records(landing / "mapped" / f"{name}-{half}.ndjson") == _expected(since, before), name
    vault_day = _when(runs["deploy_secrets_backend"][0]["data_interval_start"])
    assert _records(landing / "secrets_backend" / f"{vault_day:%Y-%m-%d}.ndjson") == _expected(
        vault_day, vault_day + dt.timedelta(days=1)
    )

    tokens_day = _when(runs["deploy_tokens"][0]["data_interval_start"])
    slice_ = dt.timedelta(days=1) / TOKEN_TASKS
    for group in ("shared", "own"):
        for i in range(TOKEN_TASKS):
            since = tokens_day + i * slice_
            assert _records(landing / "tokens" / group / f"{i:02d}.ndjson") == _expected(
                since, since + slice_
            ), f"deploy_tokens {group} {i}"

    # --- token requests with the shared token cache on and off ----------------------------------
    tokens = {group: _token_lines(cluster, "deploy_tokens", group) for group in ("shared", "own")}
    token_tasks = {
        group: [ti for ti in tis["deploy_tokens"] if ti["task_id"] == group] for group in ("shared", "own")
    }
    token_hosts = {group: {ti["hostname"] for ti in items} for group, items in token_tasks.items()}
    assert len(token_tasks["own"]) == len(token_tasks["shared"]) == TOKEN_TASKS
    # Off: every task process asks AD FS itself. On: once per worker (own token folder each),
    # every other task reads the token its worker's first task stored.
    assert tokens["own"] == {"requested": TOKEN_TASKS, "cached": 0}, tokens
    assert 1 <= tokens["shared"]["requested"] <= len(token_hosts["shared"]), (tokens, token_hosts)
    assert tokens["shared"]["requested"] + tokens["shared"]["cached"] == TOKEN_TASKS, tokens

    # --- both workers, the deferral -------------------------------------------------------------
    mapped_hosts = {ti["hostname"] for ti in tis["deploy_mapped"]}
    assert mapped_hosts == set(WORKERS), f"mapped tasks ran on {mapped_hosts}, not on both workers"
    assert sensor_ti["state"] == "deferred"
    [sensor_final] = tis["deploy_sensor"]
    assert sensor_final["state"] == "success"
    assert sensor_final["hostname"] in WORKERS
    # The trigger's own log (the UI shows it beside the task's): written by the triggerer.
    trigger_logs = list((cluster.home / "logs" / "dag_id=deploy_sensor").rglob("*.log.trigger.*.log"))
    fired = [
        line
        for path in trigger_logs
        for line in path.read_text().splitlines()
        if "Trigger fired event" in line and "'status': 'success'" in line
    ]
    assert fired, f"the triggerer never fired the sensor's trigger (trigger logs: {trigger_logs})"

    # --- no secret anywhere it may not be -------------------------------------------------------
    dump = postgres.dump(workdir / "metadata.sql")
    secret_values = {
        "subscriber key": connection["password"],
        "private key": connection["extra"]["private_key"],
        "encrypted private key": vault_connection["extra"]["private_key"],
        "passphrase": passphrase,
    }
    scan = dict(sandbox_url=connection["host"], client_id=connection["login"])
    # The scanner finds them where they belong (the secrets backend's file), so silence means absence.
    assert {leak.what for leak in leaks.scan([vault_file], secret_values, **scan)} >= {
        "subscriber key",
        "passphrase",
    }
    found = leaks.scan([*cluster.log_files(), dump], secret_values, **scan)
    assert not found, "secrets found:\n" + "\n".join(map(str, found))

    # --- numbers --------------------------------------------------------------------------------
    report.append(("db migrate", f"{cluster.timings['db migrate']:.1f} s"))
    for name in ("postgres", "redis", "sandbox"):
        component = {"postgres": postgres.process, "redis": redis.process, "sandbox": sandbox.process}[name]
        report.append((f"{name} ready", f"{component.ready_after:.1f} s"))
    for name, component in cluster.components.items():
        report.append((f"{name} ready", f"{component.ready_after:.1f} s after start"))
    report.append(("unpause -> first landed file", f"{first_file[0]:.1f} s" if first_file else "n/a"))
    for dag_id, items in tis.items():
        starts = [_when(t["start_date"]) for t in items if t["start_date"]]
        ends = [_when(t["end_date"]) for t in items if t["end_date"]]
        span = (max(ends) - min(starts)).total_seconds()
        durations = [t["duration"] for t in items if t.get("duration") is not None]
        per_worker = {w: sum(t["hostname"] == w for t in items) for w in WORKERS}
        report.append(
            (
                dag_id,
                f"{len(items)} tasks in {span:.0f} s = {len(items) / span * 60:.1f} tasks/min; "
                f"mean task {sum(durations) / max(len(durations), 1):.1f} s; per worker {per_worker}",
            )
        )
    every = [t for items in tis.values() for t in items]
    total_tasks = len(every)
    first_start = min(_when(t["start_date"]) for t in every)
    span = (max(_when(t["end_date"]) for t in every) - first_start).total_seconds()
    rate = total_tasks / span * 60
    report.append(("all DAGs", f"{total_tasks} tasks in {span:.0f} s = {rate:.1f} tasks/min"))
    waits = [
        (_when(t["start_date"]) - _when(t["queued_when"])).total_seconds()
        for t in every
        if t.get("queued_when") and t.get("start_date")
    ]
    if waits:
        mean_wait = sum(waits) / len(waits)
        report.append(("queued -> running (mean, max)", f"{mean_wait:.1f} s, {max(waits):.1f} s"))
    report.append(("records landed (hourly)", str(len(ids))))
    report.append(("token requests at the sandbox", f"{sandbox.token_requests()} for {total_tasks} tasks"))
    resource = connection["extra"].get("resource", "(the connection's resource)")
    for group, switch in (("own", "off"), ("shared", "on")):
        report.append(
            (
                f"shared_token_cache {switch}",
                f"{tokens[group]['requested']} token requests for resource {resource} by "
                f"{TOKEN_TASKS} mapped tasks on {len(token_hosts[group])} workers "
                f"({tokens[group]['cached']} tokens read from the cache)",
            )
        )
    width = max(len(k) for k, _ in report)
    print("\nDeployment test timings")
    for key, value in report:
        print(f"  {key:<{width}}  {value}")


def _token_lines(cluster: AirflowCluster, dag_id: str, task_id: str) -> dict[str, int]:
    """Token requests and shared-cache hits in the task logs of ``task_id`` (each task's last try)."""
    counts = {"requested": 0, "cached": 0}
    last_tries: dict[Path, Path] = {}
    for path in (cluster.home / "logs" / f"dag_id={dag_id}").rglob(f"task_id={task_id}/**/attempt=*.log"):
        held = last_tries.get(path.parent)
        if held is None or _attempt(path) > _attempt(held):
            last_tries[path.parent] = path
    for path in last_tries.values():
        text = path.read_text(errors="replace")
        counts["requested"] += text.count(REQUESTED)
        counts["cached"] += text.count(FROM_CACHE)
    return counts


def _attempt(path: Path) -> int:
    return int(path.name.removeprefix("attempt=").split(".")[0])


def _get(api: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    response = api.get(path, params=params)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _parsed(api: httpx.Client, cluster: AirflowCluster) -> bool:
    errors = _get(api, "/importErrors")["import_errors"]
    if errors:
        raise AssertionError(f"DAG import errors: {errors}")
    dags = {d["dag_id"] for d in _get(api, "/dags", limit=100)["dags"]}
    return set(DAGS) <= dags


def _deferred(api: httpx.Client) -> dict[str, Any] | None:
    for ti in _get(api, "/dags/deploy_sensor/dagRuns/~/taskInstances")["task_instances"]:
        if ti["state"] == "deferred":
            return dict(ti)
        if ti["state"] in ("success", "failed", "upstream_failed"):
            raise AssertionError(f"the sensor ended {ti['state']} without deferring")
    return None


def _runs_done(api: httpx.Client, dag_id: str, expected: int) -> bool:
    runs = _get(api, f"/dags/{dag_id}/dagRuns", limit=100)["dag_runs"]
    failed = [r["dag_run_id"] for r in runs if r["state"] == "failed"]
    if failed:
        raise AssertionError(f"{dag_id}: runs failed: {failed}")
    return len(runs) >= expected and all(r["state"] == "success" for r in runs)
