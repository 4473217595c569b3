"""``rh-sandbox`` as users run it: a subprocess that prints a ready connection."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from airflow_provider_rh.sandbox.__main__ import build_parser, config_from_args
from airflow_provider_rh.sandbox.server import parse_connection_env_line

pytestmark = pytest.mark.integration
START_TIMEOUT = 30.0


@contextmanager
def cli(*args: str) -> Iterator[list[str]]:
    """Run the CLI; yield its stdout lines up to and including the ready line; stop it after."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_rh.sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout
    assert stdout is not None

    def read() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (seen and seen[-1].startswith("rh-sandbox ready on")):
            seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())).rstrip("\n"))
        yield seen
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=15) == 0
        finally:
            proc.kill()
            proc.wait(timeout=5)


def printed_connection(lines: list[str]) -> dict[str, object]:
    [connection] = [c for c in map(parse_connection_env_line, lines) if c is not None]
    return connection


def test_help_documents_every_option() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_rh.sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 0
    for flag in ("--port", "--host", "--state-dir", "--seed", "--rate-limit-share", "--drop-share"):
        assert flag in result.stdout
    assert "RH_SANDBOX_PORT" in result.stdout


def test_the_cli_prints_a_ready_connection_and_reuses_its_identity(tmp_path: Path) -> None:
    with cli("--port", "0", "--state-dir", str(tmp_path), "--unit-count", "12") as lines:
        conn = printed_connection(lines)
        port = int(lines[-1].rsplit(":", 1)[1])
        discovery = httpx.get(f"http://127.0.0.1:{port}/adfs/.well-known/openid-configuration", timeout=10)

    assert any("TEST DOUBLE" in line for line in lines)
    assert any(str(tmp_path) in line and "created" in line for line in lines)
    assert conn["host"] == f"http://127.0.0.1:{port}/hsainfo/v1"
    extra = conn["extra"]
    assert isinstance(extra, dict)
    assert (
        extra["auth_url"]
        == discovery.json()["token_endpoint"]
        == f"http://127.0.0.1:{port}/adfs/oauth2/token/"
    )
    saved = tmp_path / "connection.json"
    assert json.loads(saved.read_text()) == conn
    assert saved.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "client-key.pem").stat().st_mode & 0o777 == 0o600

    with cli("--port", "0", "--state-dir", str(tmp_path)) as again:
        assert printed_connection(again)["login"] == conn["login"]
        assert any("reusing" in line for line in again)


def test_options_come_from_the_environment_and_flags_win(tmp_path: Path) -> None:
    environ = {"RH_SANDBOX_PORT": "0", "RH_SANDBOX_DROP_SHARE": "0.5", "RH_SANDBOX_SEED": "9"}

    args = build_parser(environ).parse_args(["--seed", "3", "--state-dir", str(tmp_path)])
    config = config_from_args(args)

    assert config.port == 0
    assert config.state_dir == tmp_path
    assert config.faults.drop_share == 0.5
    assert config.faults.seed == 3
    assert config.host == "127.0.0.1"
