"""What ``rh-sandbox`` prints can be used as it is: a port for the Test button, help that fits the data."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from airflow_provider_rh.sandbox import Sandbox, SandboxConfig
from airflow_provider_rh.sandbox.__main__ import build_parser
from airflow_provider_rh.sandbox.data import unit, units
from airflow_provider_rh.sandbox.server import parse_connection_env_line
from tests.sandbox.test_cli import cli


@pytest.mark.integration
def test_the_printed_connection_has_the_port(tmp_path):
    with cli("--port", "0", "--state-dir", str(tmp_path)) as lines:
        [connection] = [c for c in map(parse_connection_env_line, lines) if c is not None]
    assert any(line.startswith("export AIRFLOW_CONN_REGIONHALLAND_DEFAULT='") for line in lines)
    port = urlsplit(str(connection["host"])).port
    assert port
    assert connection["port"] == port


def test_the_help_says_what_the_data_is():
    text = " ".join(build_parser({}).format_help().split())
    assert "ids run 1..unit-count" in text
    assert "record 0" not in text
    assert "docs/sandbox.md" in text
    # ...and the data agrees: no record 0, the first record one step after the epoch.
    epoch = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert next(units(3))["id"] == 1
    assert unit(1)["updated"] == "2026-01-01T00:05:00Z"
    assert epoch.strftime("%Y-%m-%dT%H:%M:%SZ") not in {u["updated"] for u in units(10)}


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_the_printed_line_pasted_into_a_shell_reaches_the_commands_run_after_it(tmp_path):
    """``export`` makes it an environment variable: a bare assignment would stay in the shell."""
    with Sandbox(SandboxConfig(state_dir=tmp_path / "sb", port=0, unit_count=5)) as sb:
        line = sb.connection_env_line()
        expected = sb.connection
    assert line.startswith("export AIRFLOW_CONN_REGIONHALLAND_DEFAULT='")
    assert "\n" not in line
    child = f"{sys.executable} -c 'import os; print(os.environ[\"AIRFLOW_CONN_REGIONHALLAND_DEFAULT\"])'"
    result = subprocess.run(["sh", "-c", f"{line}\n{child}"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected
    # Scripts reading the line get the same connection, with or without the export.
    assert parse_connection_env_line(line) == expected
    assert parse_connection_env_line(line.removeprefix("export ")) == expected
