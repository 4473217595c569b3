"""The README's first scheduled pull, as written: ``dags_examples/hsainfo_units_daily.py``.

Plain ``schedule="@daily"`` (Airflow 3's ``CronTriggerTimetable``, empty data intervals) and
three ``airflow dags test`` runs (Airflow's CLI command, run in the test process) on Jan 2, Jan 3
and Jan 5 (Jan 4 never runs): every sandbox record of ``[Jan 1, Jan 5)`` lands exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_rh.sandbox import Sandbox
from airflow_provider_rh.sandbox.data import id_range, updated_at

from .support import read_ndjson, start_sandbox, use_sandbox, visible_files

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.integration,
    # Airflow's CLI module imports its DAG renderer, which warns when graphviz is missing.
    pytest.mark.filterwarnings("ignore:Could not import graphviz"),
]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "dags_examples" / "hsainfo_units_daily.py"
UNITS = 2_000  # one every 5 minutes from 2026-01-01: about a week


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = start_sandbox(tmp_path_factory.mktemp("sandbox"), unit_count=UNITS)
    try:
        yield sb
    finally:
        sb.stop()


def airflow_dags_test(*args: str) -> None:
    """``airflow dags test ...`` through Airflow's own CLI parser and command, in this process.

    The same code path as the ``airflow`` executable, without paying an interpreter start and
    Airflow's import for each run.
    """
    from airflow.cli.cli_parser import get_parser

    parsed = get_parser().parse_args(["dags", "test", *args])
    parsed.func(parsed)


def test_three_dags_test_runs_land_jan_1_to_5_exactly_once(
    airflow_db: Path,
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_sandbox(sandbox, monkeypatch)
    monkeypatch.setenv("RH_LANDING_BASE", tmp_path.as_uri())  # read when the CLI parses the DAG
    monkeypatch.delenv("RH_LANDING_CONN_ID", raising=False)
    for day in ("2026-01-02", "2026-01-03", "2026-01-05"):
        airflow_dags_test("hsainfo_units_daily", day)  # raises SystemExit if the run failed
    logs = "".join(capsys.readouterr())
    assert logs.count("DagRun Finished: dag_id=hsainfo_units_daily") == 3
    assert "from the previous fire time" in logs  # Jan 2: no earlier run
    assert sandbox.subscription_key not in logs

    folder = tmp_path / "hsainfo" / "units_daily"
    assert visible_files(folder) == [
        "units-20260101T000000-20260102T000000.ndjson.gz",
        "units-20260102T000000-20260103T000000.ndjson.gz",
        "units-20260103T000000-20260105T000000.ndjson.gz",  # Jan 4 never ran: the Jan 5 run covers it
    ]
    ids = [record["id"] for name in visible_files(folder) for record in read_ndjson(folder / name)]
    assert ids == list(range(1, 4 * 288))  # every record of [Jan 1, Jan 5), in order, once
    assert ids == list(id_range(UNITS, updated_before=updated_at(4 * 288)))  # 4 * 288: Jan 5 00:00


def test_the_readme_shows_the_example_as_it_is_tested() -> None:
    """The README's first scheduled pull is the example file's code, not a paraphrase of it."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Scheduled pulls") :]
    first_block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert first_block is not None
    code = EXAMPLE.read_text()
    body = code[code.index("import datetime") :]  # after the docstring and __future__
    assert first_block.group(1).strip() == body.strip()
