"""A multi-process Airflow as users run it: scheduler, dag-processor, triggerer, api-server and
two Celery workers, on PostgreSQL and Redis, every port on loopback, every log in a file."""

from __future__ import annotations

import functools
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from tests_deploy.checks import HOSTNAME_ENV, MARKER_ENV
from tests_deploy.services import LOOPBACK, Managed, Postgres, Redis, free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
AIRFLOW = str(BIN / "airflow")
WORKERS = ("deploy-worker-1", "deploy-worker-2")
WORKER_CONCURRENCY = 2
ADMIN = "admin"


class AirflowCluster:
    """Airflow's components sharing one AIRFLOW_HOME, configured only through ``AIRFLOW__*`` variables."""

    def __init__(
        self, root: Path, *, postgres: Postgres, redis: Redis, secrets_file: Path, landing: Path
    ) -> None:
        self.root = root
        self.home = root / "airflow"
        self.logs = root / "logs"
        self.landing = landing
        self.marker = root / "sensor-may-succeed"
        self.api_port = free_port()
        self.api_url = f"http://{LOOPBACK}:{self.api_port}"
        self.password = secrets.token_urlsafe(16)
        self.home.mkdir(parents=True, exist_ok=True)
        passwords = self.home / "simple_auth_manager_passwords.json"
        passwords.write_text(json.dumps({ADMIN: self.password}))
        from cryptography.fernet import Fernet

        self.env: dict[str, str] = {
            **os.environ,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "tests_deploy" / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # Connections saved through the API are encrypted in the database, as in production.
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests_deploy.checks.hostname",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.sqlalchemy_url,
            "AIRFLOW__CELERY__BROKER_URL": redis.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + postgres.sqlalchemy_url,
            "AIRFLOW__API__HOST": LOOPBACK,
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__API__WORKERS": "1",
            # Every component signs or checks the execution API's task tokens with this.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SECRETS__BACKEND": "airflow.secrets.local_filesystem.LocalFilesystemBackend",
            "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps({"connections_file_path": str(secrets_file)}),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "RH_LANDING_BASE": landing.as_uri(),
            MARKER_ENV: str(self.marker),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
        self.components: dict[str, Managed] = {}
        self.timings: dict[str, float] = {}

    # -- life cycle ---------------------------------------------------------------------------

    def migrate(self, timeout: float) -> None:
        started = time.monotonic()
        result = subprocess.run(
            [AIRFLOW, "db", "migrate"], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        (self.logs / "db-migrate.log").parent.mkdir(parents=True, exist_ok=True)
        (self.logs / "db-migrate.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed ({result.returncode}):\n{result.stderr[-4000:]}")
        self.timings["db migrate"] = time.monotonic() - started

    def start(self, timeout: float) -> None:
        """Start every component; return once the API reports each healthy and both workers are up."""
        plan: dict[str, tuple[list[str], Mapping[str, str]]] = {
            "api-server": (["api-server"], {}),
            "scheduler": (["scheduler"], {}),
            "dag-processor": (["dag-processor"], {}),
            "triggerer": (["triggerer"], {}),
        }
        for name in WORKERS:
            plan[name] = (
                [
                    "celery",
                    "worker",
                    "--celery-hostname",
                    f"{name}@{LOOPBACK}",
                    "--concurrency",
                    str(WORKER_CONCURRENCY),
                ],
                {
                    HOSTNAME_ENV: name,
                    "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                    # Where the shared token cache lives when a task turns it on: one folder per
                    # worker, as on two machines (deploy_tokens).
                    "AIRFLOW__REGIONHALLAND__SHARED_TOKEN_CACHE_DIR": str(self.root / f"tokens-{name}"),
                },
            )
        for name, (args, extra_env) in plan.items():
            self.components[name] = Managed(
                name, [AIRFLOW, *args], self.logs / f"{name}.log", env={**self.env, **extra_env}
            ).start()
        checks: dict[str, Callable[[], bool]] = {
            "api-server": self._api_up,
            "scheduler": lambda: self._healthy("scheduler"),
            "dag-processor": lambda: self._healthy("dag_processor"),
            "triggerer": lambda: self._healthy("triggerer"),
        }
        for name in WORKERS:
            checks[name] = functools.partial(self._worker_ready, name)

        def all_ready() -> bool:
            for name, check in checks.items():
                if self.components[name].ready_after is None and _safely(check):
                    self.components[name].mark_ready()
            return all(c.ready_after is not None for c in self.components.values())

        wait_until("Airflow components", all_ready, timeout=timeout, alive=self.check_alive)

    def _worker_ready(self, name: str) -> bool:
        # Celery's own line once the worker consumes from the broker.
        return f"{name}@{LOOPBACK} ready" in self.components[name].log_text()

    def check_alive(self) -> None:
        for component in self.components.values():
            component.check_alive()

    def stop(self) -> None:
        # Workers first, so no task is picked up while the rest goes away.
        order = [*WORKERS, "scheduler", "triggerer", "dag-processor", "api-server"]
        for name in order:
            if name in self.components:
                self.components[name].stop()

    def log_files(self) -> Iterator[Path]:
        """Every log any component wrote: process output and the task and trigger logs."""
        yield from sorted(p for p in self.logs.rglob("*") if p.is_file())
        yield from sorted(p for p in (self.home / "logs").rglob("*") if p.is_file())

    # -- the REST API, as the UI uses it --------------------------------------------------------

    def _api_up(self) -> bool:
        return httpx.get(f"{self.api_url}/api/v2/monitor/health", timeout=10).status_code == 200

    def _healthy(self, key: str) -> bool:
        health = httpx.get(f"{self.api_url}/api/v2/monitor/health", timeout=10).json()
        return bool(health.get(key, {}).get("status") == "healthy")

    def client(self) -> httpx.Client:
        """An API client holding a SimpleAuthManager token from ``POST /auth/token``."""
        response = httpx.post(
            f"{self.api_url}/auth/token", json={"username": ADMIN, "password": self.password}, timeout=30
        )
        response.raise_for_status()
        token = response.json()["access_token"]
        return httpx.Client(
            base_url=f"{self.api_url}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )


def _safely(check: Callable[[], bool]) -> bool:
    try:
        return check()
    except (httpx.HTTPError, ValueError):
        return False


def rest_connection(conn_id: str, connection: Mapping[str, Any]) -> dict[str, Any]:
    """The body of ``POST /api/v2/connections`` for a connection in Airflow's JSON form."""
    extra = connection.get("extra")
    return {
        "connection_id": conn_id,
        "conn_type": connection["conn_type"],
        "host": connection.get("host"),
        "login": connection.get("login"),
        "password": connection.get("password"),
        "port": connection.get("port"),
        "schema": connection.get("schema"),
        "extra": extra if isinstance(extra, str) or extra is None else json.dumps(extra),
    }
