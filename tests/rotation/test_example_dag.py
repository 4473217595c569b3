"""``dags_examples/regionhalland_certificate_check.py`` run by a real Airflow against the sandbox:
it passes with time left, and fails (so Airflow alerts) inside the warning period."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.operators.certificates import connection_ids_of_our_type
from airflow_provider_rh.sandbox import Sandbox, SandboxConfig
from tests.operators.test_dag_run import xcom_value

pytestmark = [pytest.mark.airflow, pytest.mark.integration]

EXAMPLE = Path(__file__).resolve().parents[2] / "dags_examples" / "regionhalland_certificate_check.py"


def run_example() -> tuple[str, object]:
    spec = importlib.util.spec_from_file_location("example_regionhalland_certificate_check", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag_run = module.dag.test()
    (ti,) = dag_run.get_task_instances()
    return str(ti.state), xcom_value(dag_run, "certificates") if ti.state == "success" else None


def test_the_daily_check_passes_with_time_left_and_fails_inside_the_period(airflow_db, tmp_path, monkeypatch):
    SHARED_TOKEN_CACHE.clear()
    with Sandbox(SandboxConfig(state_dir=tmp_path / "sb", port=0, unit_count=5)) as sb:
        connection = sb.connection  # its certificate is valid for ten years
        monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", json.dumps(connection))
        assert connection_ids_of_our_type() == ["regionhalland_default"]

        state, result = run_example()
        assert state == "success"
        assert isinstance(result, list)
        assert result[0]["conn_id"] == "regionhalland_default"
        assert result[0]["ok"] is True
        assert "days left" in result[0]["lines"][0]

        # A warning period longer than the certificate's remaining life: the task fails.
        connection["extra"]["expiry_warning_days"] = 3650
        monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", json.dumps(connection))
        state, _ = run_example()
        assert state == "failed"
