"""The example DAGs, run by a real Airflow (``dag.test()``, migrated SQLite) against the sandbox.

What landed is read back and compared with the sandbox's data: an hourly window holds exactly
the ids whose ``updated`` lies in it, backfilled hours neither overlap nor leave gaps, and a
rerun replaces its hour's file.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.sandbox import Sandbox
from airflow_provider_rh.sandbox.data import id_range, units

from .support import asset_event_extras, read_ndjson, start_sandbox, use_sandbox, visible_files, xcom

pytestmark = [pytest.mark.airflow, pytest.mark.integration]

EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"
UNITS = 400  # more than a day (288 at one every 5 minutes), so a day's window is a strict subset
UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = start_sandbox(tmp_path_factory.mktemp("sandbox"), unit_count=UNITS)
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def landing(airflow_db: Path, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the example DAGs land, set as they read it: ``RH_LANDING_BASE`` at parse time."""
    use_sandbox(sandbox, monkeypatch)
    monkeypatch.setenv("RH_LANDING_BASE", tmp_path.as_uri())
    monkeypatch.delenv("RH_LANDING_CONN_ID", raising=False)
    return tmp_path


def save_examples_to_db() -> None:
    """Parse the example DAGs and save them (with their assets) as the dag-processor would.

    Airflow 3.1 and 3.2's ``dag.test()`` parses the DAG folder only for a DAG never saved before,
    so one first saved by an earlier test would keep that test's asset URIs; 3.3 saves the tested
    DAG itself (and a second save here would leave two serialized versions of one run).
    """
    from airflow import __version__ as airflow_version
    from packaging.version import Version

    if Version(airflow_version) >= Version("3.3"):
        return
    from airflow.dag_processing.bundles.manager import DagBundlesManager

    try:
        from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag, sync_bag_to_db  # type: ignore[no-redef,attr-defined]

    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(DagBag(dag_folder=str(EXAMPLES)), "dags-folder", None)


def load(name: str) -> ModuleType:
    """The example DAG file, imported afresh (it reads the environment when parsed), and saved."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    save_examples_to_db()
    return module


def window_ids(start: dt.datetime, end: dt.datetime) -> list[int]:
    return list(id_range(UNITS, updated_since=start, updated_before=end))


def test_hourly_backfill_lands_each_hour_exactly_once(
    landing: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    dag = load("hsainfo_units_hourly").dag
    hours = [dt.datetime(2026, 1, 1, hour, tzinfo=UTC) for hour in (1, 2, 3)]
    for start in hours:
        # dag.test() makes a manual run, whose data interval is the last complete hour before it.
        dag_run = dag.test(logical_date=start + dt.timedelta(hours=1))
        assert dag_run.state == "success"
        assert (dag_run.data_interval_start, dag_run.data_interval_end) == (
            start,
            start + dt.timedelta(hours=1),
        )
        summary = xcom(dag_run, "pull_units")
        assert summary["records"] == 12
        assert summary["paths"] == [
            (landing / f"hsainfo/units/2026-01-01/units-{start:%H}.ndjson.gz").as_uri()
        ]

    folder = landing / "hsainfo" / "units" / "2026-01-01"
    assert visible_files(folder) == ["units-01.ndjson.gz", "units-02.ndjson.gz", "units-03.ndjson.gz"]
    landed = []
    for start in hours:
        records = read_ndjson(folder / f"units-{start:%H}.ndjson.gz")
        assert [r["id"] for r in records] == window_ids(start, start + dt.timedelta(hours=1))
        landed += records
    assert landed == list(units(47))[11:]  # ids 12..47: contiguous, no overlap, no gap

    # A rerun of an hour replaces its file: still one file, the same records.
    before = (folder / "units-02.ndjson.gz").read_bytes()
    assert dag.test(logical_date=hours[2]).state == "success"
    assert (folder / "units-02.ndjson.gz").read_bytes() == before
    assert visible_files(folder) == ["units-01.ndjson.gz", "units-02.ndjson.gz", "units-03.ndjson.gz"]
    assert [path.name for path in folder.iterdir() if path.name.startswith(".")] == []

    extras = asset_event_extras(f"{landing.as_uri()}/hsainfo/units")
    assert [e["records"] for e in extras][-4:] == [12, 12, 12, 12]

    logs = "".join(capsys.readouterr())
    assert "Landed 12 records from 1 pages" in logs
    for secret in (sandbox.subscription_key, RegionHallandHook().get_token()):
        assert secret not in logs


def test_mapped_partitions_each_land_the_day(landing: Path) -> None:
    module = load("hsainfo_mapped")
    day = dt.datetime(2026, 1, 1, tzinfo=UTC)
    dag_run = module.dag.test(logical_date=day + dt.timedelta(days=1))
    assert dag_run.state == "success"
    assert dag_run.data_interval_start == day
    states = {(ti.task_id, ti.map_index): ti.state for ti in dag_run.get_task_instances()}
    assert states == {("pull_partition", i): "success" for i in range(len(module.PARTITIONS))}

    expected = window_ids(day, day + dt.timedelta(days=1))
    assert expected == list(range(1, 288))
    folder = landing / "hsainfo" / "mapped" / "2026-01-01"
    names = [name for name, *_ in module.PARTITIONS]
    assert visible_files(folder) == sorted(f"{name}.ndjson.gz" for name in names)
    for index, name in enumerate(names):
        assert [r["id"] for r in read_ndjson(folder / f"{name}.ndjson.gz")] == expected, name
        assert xcom(dag_run, "pull_partition", index)["records"] == len(expected)


def test_example_dags_serialize(landing: Path) -> None:
    try:
        from airflow.serialization.serialized_objects import DagSerialization
    except ImportError:  # Airflow 3.1
        from airflow.serialization.serialized_objects import (  # type: ignore[attr-defined,no-redef]
            SerializedDAG as DagSerialization,
        )

    for name in ("hsainfo_units_hourly", "hsainfo_mapped", "hsainfo_units_daily"):
        data = DagSerialization.to_dict(load(name).dag)
        DagSerialization.validate_schema(data)
        assert DagSerialization.from_dict(json.loads(json.dumps(data))).dag_id == name
