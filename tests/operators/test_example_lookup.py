"""``dags_examples/hsainfo_unit_lookup.py`` (shown in docs/operators.md), run by a real Airflow."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from airflow_provider_rh.sandbox.data import unit
from tests.operators.test_dag_run import xcom_value

pytestmark = [pytest.mark.airflow, pytest.mark.integration]

EXAMPLE = Path(__file__).resolve().parents[2] / "dags_examples" / "hsainfo_unit_lookup.py"


def test_the_lookup_example_waits_then_fetches_the_unit(airflow_db, sb):
    spec = importlib.util.spec_from_file_location("example_hsainfo_unit_lookup", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    dag_run = module.dag.test(run_conf={"unit_id": 7})

    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states == {"wait_for_api": "success", "get_unit": "success"}
    assert xcom_value(dag_run, "get_unit") == unit(7)
