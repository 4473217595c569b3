"""The other API shapes over consecutive runs of a real Airflow (``dag.test()``, SQLite), record by record.

Between runs the test changes the sandbox's records (updates to old ones, new ones, records
that get exactly the mark's value), then checks that each run landed exactly the changes since
the run before: every change once, nothing missed at a boundary. State (the mark, the delta
link) goes from run to run through Airflow's XCom, as it would between Celery workers.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from airflow_provider_rh.sandbox import Sandbox

from .support import asset_event_extras, read_ndjson, start_sandbox, use_sandbox, visible_files, xcom

pytestmark = [pytest.mark.airflow, pytest.mark.integration]

DAGS = Path(__file__).parent / "shape_dags"
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
UNITS = 120
UTC = dt.timezone.utc


def jan(day: int) -> dt.datetime:
    return dt.datetime(2026, 1, day, tzinfo=UTC)


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox per test: each test changes its records."""
    sb = start_sandbox(tmp_path_factory.mktemp("sandbox"), unit_count=UNITS)
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("landing")


@pytest.fixture(scope="module")
def dags(airflow_db: Path, landing: Path) -> Iterator[ModuleType]:
    bundles = [
        {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
        {"name": "rh-shape-tests", "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(DAGS)}},
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
        patch.setenv("RH_SHAPES_LANDING", str(landing))
        spec = importlib.util.spec_from_file_location("rh_shapes", DAGS / "rh_shapes.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


@pytest.fixture
def sb(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return use_sandbox(sandbox, monkeypatch)


def run(dag: Any, day: int, **conf: Any) -> Any:
    return dag.test(logical_date=jan(day), run_conf=conf or None)


def landed(landing: Path, dag_id: str, day: int, id_key: str = "id") -> list[tuple[int, int]]:
    """``(id, version)`` of every record the run of ``day`` landed, in file order."""
    version_key = "version" if id_key == "id" else "Version"
    records = read_ndjson(landing / dag_id / f"{jan(day):%Y%m%dT%H%M%S}.ndjson")
    return [(r[id_key], r[version_key]) for r in records]


def versions(sb: Sandbox, ids: list[int]) -> list[tuple[int, int]]:
    by_id = {r["id"]: r["version"] for r in sb.shapes.records()}
    return [(i, by_id[i]) for i in ids]


def stamp_of(sb: Sandbox, record_id: int) -> dt.datetime:
    text = next(r["modified"] for r in sb.shapes.records() if r["id"] == record_id)
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(("name", "id_key"), [("search_hwm", "id"), ("odata_hwm", "Id")])
def test_a_high_water_mark_lands_every_change_once_across_runs(
    dags: ModuleType, sb: Sandbox, landing: Path, name: str, id_key: str
) -> None:
    dag = getattr(dags, name)
    dag_id = dag.dag_id
    every: list[tuple[int, int]] = []

    # Run 1: no mark yet, so everything; the mark is the newest record's value.
    first_run = run(dag, 2)
    assert first_run.state == "success"
    first = landed(landing, dag_id, 2, id_key)
    assert sorted(first) == [(i, 1) for i in range(1, UNITS + 1)]
    every += first
    summary = xcom(first_run, "pull")
    newest = sb.shapes.records()[-1]
    assert summary["incremental"]["mark"]["value"] == newest["modified"]
    assert [key for key, _ in summary["incremental"]["mark"]["keys"]] == [UNITS]
    assert summary["incremental"]["source"] == "none (everything)"

    # Old records updated and new ones added, all with one stamp (they share the next mark).
    change = sb.shapes.change(update=[3, 40, 77], add=2)
    assert run(dag, 3).state == "success"
    assert sorted(landed(landing, dag_id, 3, id_key)) == versions(sb, [3, 40, 77, UNITS + 1, UNITS + 2])

    # A record that gets exactly the mark's value after the run that set the mark still lands;
    # the records the last run landed at that value do not land again.
    sb.shapes.change(update=[5], at=stamp_of(sb, 3))
    assert stamp_of(sb, 5) == stamp_of(sb, 3)
    dag_run = run(dag, 4)
    assert dag_run.state == "success"
    assert landed(landing, dag_id, 4, id_key) == versions(sb, [5])
    mark = xcom(dag_run, "pull")["incremental"]["mark"]
    assert mark["value"] == change["stamp"]
    assert [key for key, _ in mark["keys"]] == [3, 5, 40, 77, UNITS + 1, UNITS + 2]

    # Nothing changed: nothing lands and the mark carries over.
    dag_run = run(dag, 5)
    assert dag_run.state == "success"
    assert landed(landing, dag_id, 5, id_key) == []
    assert xcom(dag_run, "pull")["incremental"]["mark"]["value"] == change["stamp"]
    assert xcom(dag_run, "pull")["incremental"]["dropped"] == 6

    # A failed run does not move the mark: the run after it lands what changed before and after.
    sb.shapes.change(update=[10])
    assert run(dag, 6, path="/no-such-route").state == "failed"
    sb.shapes.change(update=[10, 11], add=1)
    assert run(dag, 7).state == "success"
    assert sorted(landed(landing, dag_id, 7, id_key)) == versions(sb, [10, 11, UNITS + 3])
    assert versions(sb, [10]) == [(10, 3)]  # two updates, the latest version lands

    # The mark is in every asset event too, so a consumer sees what the pull stands on.
    extras = asset_event_extras(dags.asset(dag_id).uri)
    assert [extra["incremental"]["mark"]["value"] for extra in extras][-1] == stamp_of(
        sb, UNITS + 3
    ).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_cleared_earlier_run_repulls_from_its_predecessor_and_misses_nothing(
    dags: ModuleType, sb: Sandbox, landing: Path
) -> None:
    """Clearing run 3 after run 4: it re-reads from run 2's mark (twice-landed, never missed),
    and run 5 goes on from run 4's mark (the latest by logical date before it)."""
    dag, dag_id = dags.search_hwm_clear, dags.search_hwm_clear.dag_id
    assert run(dag, 2).state == "success"
    sb.shapes.change(update=[1])
    assert run(dag, 3).state == "success"
    sb.shapes.change(update=[2])
    assert run(dag, 4).state == "success"
    sb.shapes.change(update=[3])
    assert run(dag, 3).state == "success"  # the clear: run 3 again
    assert sorted(landed(landing, dag_id, 3)) == [(1, 2), (2, 2), (3, 2)]
    sb.shapes.change(update=[4])
    assert run(dag, 5).state == "success"
    assert sorted(landed(landing, dag_id, 5)) == [(3, 2), (4, 2)]
    # A backfill before every run has no earlier mark: it starts from the beginning.
    assert run(dag, 1).state == "success"
    assert len(landed(landing, dag_id, 1)) == UNITS


def test_a_mapped_pull_keeps_each_mark_with_its_inputs_when_their_order_changes(
    dags: ModuleType, sb: Sandbox, landing: Path
) -> None:
    """Map index 0 was Halmstad and becomes Varberg: Halmstad's later mark must not skip
    Varberg's change (the marks belong to the inputs, not to the index)."""
    dag, dag_id = dags.search_hwm_mapped, dags.search_hwm_mapped.dag_id
    town = {r["id"]: r["municipalityCode"] for r in sb.shapes.records()}
    halmstad = [i for i, code in town.items() if code == "1380"]
    varberg = [i for i, code in town.items() if code == "1383"]

    def files(day: int) -> list[list[tuple[int, int]]]:
        return [
            [
                (r["id"], r["version"])
                for r in read_ndjson(landing / dag_id / f"{jan(day):%Y%m%dT%H%M%S}-{i}.ndjson")
            ]
            for i in range(2)
        ]

    assert run(dag, 2, codes=["1380", "1383"]).state == "success"
    assert [sorted(i for i, _ in found) for found in files(2)] == [halmstad, varberg]
    high = sb.shapes.change(update=[halmstad[0]])
    assert run(dag, 3, codes=["1380", "1383"]).state == "success"
    assert files(3) == [versions(sb, [halmstad[0]]), []]
    # Varberg changes at a time before Halmstad's mark (index 0's), after its own.
    sb.shapes.change(
        update=[varberg[0]],
        at=dt.datetime.fromisoformat(high["stamp"].replace("Z", "+00:00")) - dt.timedelta(seconds=1),
    )
    dag_run = run(dag, 4, codes=["1383", "1380"])
    assert dag_run.state == "success"
    first, second = files(4)
    assert versions(sb, [varberg[0]])[0] in first, "Varberg's change was skipped by Halmstad's mark"
    assert sorted(i for i, _ in first) == varberg  # a mark of other inputs is not used: everything
    assert sorted(i for i, _ in second) == halmstad
    assert "different request" in xcom(dag_run, "pull", map_index=0)["incremental"]["source"]
    # In the same order again, each goes on from its own mark: nothing new, nothing lands.
    dag_run = run(dag, 5, codes=["1383", "1380"])
    assert dag_run.state == "success"
    assert files(5) == [[], []]
    assert xcom(dag_run, "pull", map_index=1)["incremental"]["source"] == "previous run"


def test_a_filter_window_partitions_time_like_a_time_window(
    dags: ModuleType, sb: Sandbox, landing: Path
) -> None:
    dag = dags.odata_window
    runs = {day: run(dag, day, **({"path": "/no-such-route"} if day == 3 else {})) for day in (2, 3, 4)}
    states = {day: dag_run.state for day, dag_run in runs.items()}
    assert states == {2: "success", 3: "failed", 4: "success"}
    files = {
        name: [r["Id"] for r in read_ndjson(landing / dag.dag_id / name)]
        for name in visible_files(landing / dag.dag_id)
    }
    records = sb.shapes.records()

    def ids(start: dt.datetime, end: dt.datetime) -> list[int]:
        low, high = (moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in (start, end))
        return [r["id"] for r in records if low <= r["modified"] < high]

    edges = [jan(1), jan(2), jan(4)]  # Jan 3 failed: Jan 4 covers it
    assert files == {
        f"{s:%Y%m%dT%H%M%S}-{e:%Y%m%dT%H%M%S}.ndjson": ids(s, e) for s, e in itertools.pairwise(edges)
    }
    assert sorted(i for found in files.values() for i in found) == list(range(1, UNITS + 1))
    assert xcom(runs[4], "pull")["window"]["start"] == "2026-01-02T00:00:00Z"


def test_delta_links_carry_changes_and_an_expired_link_reads_everything_again(
    dags: ModuleType, sb: Sandbox, landing: Path
) -> None:
    dag, dag_id = dags.odata_delta, dags.odata_delta.dag_id
    first = run(dag, 2)
    assert first.state == "success"
    assert sorted(landed(landing, dag_id, 2, "Id")) == [(i, 1) for i in range(1, UNITS + 1)]
    assert xcom(first, "pull")["delta"]["source"] == "full read"
    link = xcom(first, "pull")["delta"]["link"]
    assert "$deltatoken=" in link

    sb.shapes.change(update=[7, 8], add=1)
    second = run(dag, 3)
    assert second.state == "success"
    assert landed(landing, dag_id, 3, "Id") == versions(sb, [7, 8, UNITS + 1])
    assert xcom(second, "pull")["delta"]["source"] == "delta link"

    assert run(dag, 4).state == "success"
    assert landed(landing, dag_id, 4, "Id") == []

    sb.shapes.change(update=[9])
    sb.shapes.expire_delta_links()
    fourth = run(dag, 5)
    assert fourth.state == "success"
    assert xcom(fourth, "pull")["delta"]["source"] == "full re-read, the delta link had expired"
    assert sorted(landed(landing, dag_id, 5, "Id")) == versions(sb, list(range(1, UNITS + 2)))

    sb.shapes.change(update=[1])
    assert run(dag, 6).state == "success"
    assert landed(landing, dag_id, 6, "Id") == versions(sb, [1])


def test_an_expiry_told_by_an_error_code_reads_everything_again_and_other_refusals_fail(
    dags: ModuleType, sb: Sandbox, landing: Path
) -> None:
    by_code, strict = dags.odata_delta_by_code, dags.odata_delta_no_expiry
    for dag in (by_code, strict):
        assert run(dag, 2).state == "success"
    sb.shapes.change(update=[7])
    sb.shapes.expire_delta_links()
    again = run(by_code, 3)
    assert again.state == "success"
    assert xcom(again, "pull")["delta"]["source"] == "full re-read, the delta link had expired"
    assert sorted(landed(landing, by_code.dag_id, 3, "Id")) == versions(sb, list(range(1, UNITS + 1)))
    # Neither the status nor a code says "expired": the refusal fails the run, nothing lands.
    assert run(strict, 3).state == "failed"
    assert not (landing / strict.dag_id / f"{jan(3):%Y%m%dT%H%M%S}.ndjson").exists()


def test_a_state_carrying_pull_into_the_same_file_every_run_is_warned_about(
    dags: ModuleType, sb: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    dag = dags.odata_delta_one_file
    assert run(dag, 2).state == "success"
    assert "where the last successful run landed" not in "".join(capsys.readouterr())
    sb.shapes.change(update=[3])
    assert run(dag, 3).state == "success"
    logs = "".join(capsys.readouterr())
    assert "where the last successful run landed: a delta pull lands only what changed" in logs
    assert "changes.ndjson" in logs


EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"


def example(name: str, landing: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An example DAG, parsed with its landing place (``RH_LANDING_BASE``) set to ``landing``."""
    monkeypatch.setenv("RH_LANDING_BASE", landing.as_uri())
    monkeypatch.delenv("RH_LANDING_CONN_ID", raising=False)
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def test_the_shape_examples_run_and_land_exactly_what_changed(
    airflow_db: Path, sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    search = example("shapes_search_incremental", tmp_path, monkeypatch)
    delta = example("shapes_odata_delta", tmp_path, monkeypatch)
    window = example("shapes_odata_window", tmp_path, monkeypatch)
    wanted = {"1380", "1383"}
    for dag in (search, delta):
        assert dag.test(logical_date=jan(2)).state == "success"
    sb.shapes.change(update=[1, 2, 3, 4, 5, 6])
    for dag in (search, delta):
        assert dag.test(logical_date=jan(3)).state == "success"
    assert window.test(logical_date=jan(2)).state == "success"

    def ids(folder: str, name: str, key: str) -> list[int]:
        return sorted(r[key] for r in read_ndjson(tmp_path / "shapes" / folder / name))

    records = sb.shapes.records()
    in_search = [r["id"] for r in records if r["municipalityCode"] in wanted]
    assert ids("search", "changes-20260102T000000.ndjson.gz", "id") == sorted(in_search)
    assert ids("search", "changes-20260103T000000.ndjson.gz", "id") == [
        i for i in range(1, 7) if i in in_search
    ]
    assert ids("odata_delta", "changes-20260102T000000.ndjson.gz", "Id") == list(range(1, UNITS + 1))
    assert ids("odata_delta", "changes-20260103T000000.ndjson.gz", "Id") == [1, 2, 3, 4, 5, 6]
    day_one = [r["id"] for r in records if r["modified"] < "2026-01-02T00:00:00Z"]
    assert ids("odata", "units-20260101T000000-20260102T000000.ndjson.gz", "Id") == sorted(day_one)
