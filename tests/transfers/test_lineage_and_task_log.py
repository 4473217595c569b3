"""A real ``airflow dags test`` of the daily example with OpenLineage's file transport configured.

Checks what a user of a lineage backend (Marquez) gets: one input dataset for the API endpoint
and one output per landed file, local and on S3 (moto), named per the OpenLineage naming spec;
and what a user reading the task log sees: the window line beside the pull's own lines. A
subprocess, so OpenLineage reads its configuration from the environment as in a deployment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_rh.get_provider_info import CONN_FIELDS
from airflow_provider_rh.sandbox import Sandbox

from .support import S3, start_sandbox, visible_files

pytestmark = [pytest.mark.airflow, pytest.mark.integration]

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAY = "2026-01-02"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory):
    sb = start_sandbox(tmp_path_factory.mktemp("sandbox"), unit_count=400)
    try:
        yield sb
    finally:
        sb.stop()


def form_saved(sb: Sandbox) -> str:
    """The sandbox's connection as the connection form saves it: every field's default stored
    in the extra beside what the user entered."""
    conn = json.loads(sb.connection_uri_env())
    schemas = {name: field["schema"] for name, field in CONN_FIELDS.items()}
    defaults = {name: schema["default"] for name, schema in schemas.items() if "default" in schema}
    conn["extra"] = {**defaults, **conn["extra"]}
    return json.dumps(conn)


def dags_test(
    sb: Sandbox, events: Path, landing: str, conn_id: str | None = None, connection: str | None = None
) -> str:
    env = {
        **os.environ,
        "AIRFLOW_CONN_REGIONHALLAND_DEFAULT": connection or sb.connection_uri_env(),
        "RH_LANDING_BASE": landing,
        "RH_LANDING_CONN_ID": conn_id or "",
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "airflow-test",
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events), "append": True}
        ),
    }
    result = subprocess.run(
        [AIRFLOW, "dags", "test", "hsainfo_units_daily", DAY],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    return output


def complete_event(events: Path) -> dict[str, Any]:
    lines = [json.loads(line) for line in events.read_text().splitlines() if line.strip()]
    [event] = [
        e
        for e in lines
        if e["eventType"] == "COMPLETE" and e["job"]["name"] == "hsainfo_units_daily.pull_units"
    ]
    return event


def names(datasets: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(d["namespace"], d["name"]) for d in datasets]


def test_local_landing_lineage_and_a_clean_task_log(airflow_db: Path, sandbox: Sandbox, tmp_path: Path):
    events = tmp_path / "openlineage.jsonl"
    output = dags_test(sandbox, events, (tmp_path / "landing").as_uri(), connection=form_saved(sandbox))

    event = complete_event(events)
    assert event["job"]["namespace"] == "airflow-test"
    assert names(event["inputs"]) == [(f"http://127.0.0.1:{sandbox.port}", "/hsainfo/v1/units")]
    folder = tmp_path / "landing" / "hsainfo" / "units_daily"
    [landed] = visible_files(folder)
    assert names(event["outputs"]) == [("file", str(folder / landed))]

    # The task log: the window line after the pre-execute section (the "::endgroup::" Airflow
    # folds everything before into).
    assert output.index("Window [2026-01-01T00:00:00Z, 2026-01-02T00:00:00Z)") > output.index("::endgroup::")
    assert sandbox.subscription_key not in output
    # Airflow hands every string of the connection's extra to its secrets masker, which warns
    # "Skipping masking for a secret as it's too short" for one under its minimum length (the
    # form's short defaults were x5t, true); users read that as a security problem (issue 15.15).
    assert "Skipping masking" not in output


def test_s3_landing_lineage(airflow_db: Path, sandbox: Sandbox, s3: S3, tmp_path: Path):
    events = tmp_path / "openlineage.jsonl"
    dags_test(sandbox, events, f"s3://{s3.bucket}/lake", conn_id=s3.conn_id)
    event = complete_event(events)
    [key] = s3.list_keys()
    assert key.startswith("lake/hsainfo/units_daily/units-20260101T000000-20260102T000000")
    assert names(event["outputs"]) == [(f"s3://{s3.bucket}", key)]
    assert names(event["inputs"]) == [(f"http://127.0.0.1:{sandbox.port}", "/hsainfo/v1/units")]
