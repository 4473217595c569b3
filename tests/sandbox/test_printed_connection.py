"""What ``rh-sandbox`` prints can be used as it is: a port for the Test button, help that fits the data."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest

from airflow_provider_rh.sandbox.__main__ import build_parser
from airflow_provider_rh.sandbox.data import unit, units
from airflow_provider_rh.sandbox.server import parse_connection_env_line
from tests.sandbox.test_cli import cli


@pytest.mark.integration
def test_the_printed_connection_has_the_port(tmp_path):
    with cli("--port", "0", "--state-dir", str(tmp_path)) as lines:
        [connection] = [c for c in map(parse_connection_env_line, lines) if c is not None]
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
