"""Private instances of the deployment's parts: processes in their own groups, logs in files.

Every process starts in a new session (its own process group), writes stdout and stderr to one
log file, and is stopped with SIGTERM to the whole group, then SIGKILL after a bounded wait, so
nothing outlives the test even when a component forks workers of its own.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port free on loopback right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    what: str,
    ready: Callable[[], object],
    *,
    timeout: float,
    interval: float = 0.5,
    alive: Callable[[], None] | None = None,
) -> object:
    """Poll ``ready()`` until it returns something truthy; bounded by ``timeout`` seconds.

    ``alive()`` runs before every poll and raises if a process we depend on has died, so a
    crash fails at once with its log instead of after the whole timeout.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        if alive is not None:
            alive()
        try:
            result = ready()
        except (OSError, httpx.HTTPError, ValueError, KeyError) as exc:
            result, last_error = None, exc
        if result:
            return result
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s{detail}")
        time.sleep(interval)


class ProcessDied(RuntimeError):
    """A component exited while the test still needed it."""


@dataclass
class Managed:
    """One running process, in its own group, logging to ``log``."""

    name: str
    argv: Sequence[str]
    log: Path
    env: Mapping[str, str] | None = None
    user: str | None = None
    started: float = 0.0
    ready_after: float | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> Managed:
        argv = list(self.argv)
        if self.user is not None:
            argv = ["runuser", "-u", self.user, "--", *argv]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(self.env) if self.env is not None else None,
                start_new_session=True,
            )
        self.started = time.monotonic()
        return self

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise ProcessDied(f"{self.name} exited with {self.proc.returncode}; log {self.log}")

    def mark_ready(self) -> float:
        self.ready_after = time.monotonic() - self.started
        return self.ready_after

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM to the group, SIGKILL to the group if it lingers; waits are bounded."""
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
                # The leader is gone; children it left behind in the group go too.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                break
            except subprocess.TimeoutExpired:
                continue


def postgres_bindir() -> Path:
    """Debian's PostgreSQL binaries (``/usr/lib/postgresql/<major>/bin``), newest major."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major, reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise FileNotFoundError("PostgreSQL is not installed; run scripts/ci/install-services.sh")


def _major(path: str) -> int:
    try:
        return int(Path(path).parts[-3])
    except ValueError:
        return 0


class Postgres:
    """A throwaway PostgreSQL cluster: initdb into ``root``, 127.0.0.1:``port``, socket in ``root``.

    PostgreSQL refuses to run as root, so as root the cluster belongs to ``user`` (Debian's
    ``postgres``) and every server command runs through ``runuser``.
    """

    def __init__(self, root: Path, logs: Path, *, user: str = "postgres") -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.bindir = postgres_bindir()
        self.user = user if os.geteuid() == 0 else None
        self.process = Managed(
            "postgres",
            [
                str(self.bindir / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(root),
                "-c",
                f"listen_addresses={LOOPBACK}",
                # A test database: durability is not the point, speed under contention is.
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            logs / "postgres.log",
            user=self.user,
        )

    def _as_owner(self, argv: Sequence[str]) -> list[str]:
        return ["runuser", "-u", self.user, "--", *argv] if self.user else list(argv)

    def start(self, timeout: float) -> Postgres:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.root, user=self.user)
        subprocess.run(
            self._as_owner(
                [
                    str(self.bindir / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "airflow",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        self.process.start()
        wait_until("PostgreSQL", self._accepts, timeout=timeout, alive=self.process.check_alive)
        self.process.mark_ready()
        self.psql("CREATE DATABASE airflow", database="postgres", timeout=timeout)
        return self

    def _accepts(self) -> bool:
        result = subprocess.run(
            [
                str(self.bindir / "pg_isready"),
                "-h",
                LOOPBACK,
                "-p",
                str(self.port),
                "-U",
                "airflow",
                "-d",
                "postgres",
            ],
            capture_output=True,
            timeout=30,
        )
        return result.returncode == 0

    def psql(self, sql: str, *, database: str = "airflow", timeout: float = 60) -> str:
        result = subprocess.run(
            [str(self.bindir / "psql"), *self._conn_args(database), "-v", "ON_ERROR_STOP=1", "-Atc", sql],
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return result.stdout

    def dump(self, target: Path, *, timeout: float = 300) -> Path:
        """``pg_dump`` of the metadata database, as plain SQL."""
        subprocess.run(
            [str(self.bindir / "pg_dump"), *self._conn_args("airflow"), "-f", str(target)],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        return target

    def _conn_args(self, database: str) -> list[str]:
        return ["-h", LOOPBACK, "-p", str(self.port), "-U", "airflow", "-d", database]

    @property
    def sqlalchemy_url(self) -> str:
        return f"postgresql+psycopg2://airflow@{LOOPBACK}:{self.port}/airflow"

    def stop(self) -> None:
        self.process.stop()


class Redis:
    """A private redis-server on 127.0.0.1:``port``, no persistence."""

    def __init__(self, root: Path, logs: Path) -> None:
        self.port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = Managed(
            "redis",
            [
                server,
                "--port",
                str(self.port),
                "--bind",
                LOOPBACK,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(root),
                "--protected-mode",
                "yes",
            ],
            logs / "redis.log",
        )

    def start(self, timeout: float) -> Redis:
        import redis

        self.process.start()
        client = redis.Redis(host=LOOPBACK, port=self.port, socket_timeout=5)
        try:
            wait_until(
                "redis-server", lambda: _redis_ping(client), timeout=timeout, alive=self.process.check_alive
            )
        finally:
            client.close()
        self.process.mark_ready()
        return self

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def stop(self) -> None:
        self.process.stop()


def _redis_ping(client: object) -> bool:
    import redis

    try:
        return bool(client.ping())  # type: ignore[attr-defined]
    except redis.RedisError:
        return False
