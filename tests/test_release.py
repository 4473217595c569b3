"""What a release relies on: one version, a licence that ships, install commands that work."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

import airflow_provider_rh
from airflow_provider_rh.get_provider_info import get_provider_info

ROOT = Path(__file__).resolve().parents[1]
# Not tomllib at import: the matrix collects every test on Python 3.10 too (see _pyproject).
_TEXT = (ROOT / "pyproject.toml").read_text()


def _project(key: str) -> str:
    return re.search(rf"^{re.escape(key)} = (.*)$", _TEXT, re.MULTILINE).group(1)  # type: ignore[union-attr]


def test_the_version_is_the_one_in_pyproject():
    version = _project("version").strip('"')
    assert airflow_provider_rh.__version__ == version
    assert get_provider_info()["versions"] == [version]


def test_the_licence_is_declared_and_shipped():
    assert _project("license") == '"Apache-2.0"'
    assert _project("license-files") == '["LICENSE"]'
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License")
    assert "Version 2.0, January 2004" in text


def test_no_doc_installs_a_name_that_is_not_published_yet():
    """Until the first release, `pip install airflow-provider-rh` fails: docs install the wheel."""
    for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for line in doc.read_text().splitlines():
            if re.match(r"\s*pip install\b", line) and "airflow-provider-rh" in line:
                raise AssertionError(f"{doc.name}: {line.strip()}")


# -- the support table (README) against what CI runs (scripts/ci/matrix.sh) and pyproject --------

README = ROOT / "README.md"
MATRIX = ROOT / "scripts" / "ci" / "matrix.sh"
_VERSION = r"\d+\.\d+(?:\.\d+)?"


def _pyproject() -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10 (the matrix collects there): pytest's own tomli
        import tomli as tomllib
    return tomllib.loads(_TEXT)


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _airflow_floor() -> str:
    [floor] = [
        match.group(1)
        for dep in _pyproject()["project"]["dependencies"]
        if (match := re.fullmatch(rf"apache-airflow>=({_VERSION})", dep.replace(" ", "")))
    ]
    return floor


def _readme_table() -> dict[tuple[str, str], str]:
    """(Python, Airflow) -> the cell's text, for every non-empty cell of the support table."""
    lines = README.read_text().splitlines()
    [start] = [i for i, line in enumerate(lines) if re.match(r"\|\s*Python\s*\|\s*Airflow ", line)]
    header = lines[start].strip().strip("|").split("|")[1:]
    columns = [re.fullmatch(rf"Airflow ({_VERSION})", c.strip()) for c in header]
    assert all(columns), f"README table header: {lines[start]}"
    airflows = [c.group(1) for c in columns if c]
    cells: dict[tuple[str, str], str] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        python, *row = (c.strip() for c in line.strip().strip("|").split("|"))
        assert re.fullmatch(r"3\.\d+", python), f"README table row: {line}"
        assert len(row) == len(airflows), f"README table row has {len(row)} cells: {line}"
        for airflow, cell in zip(airflows, row, strict=True):
            if cell:
                assert cell.startswith("tested"), f"README table cell {cell!r} ({python}, {airflow})"
                cells[python, airflow] = cell
    pythons = {python for python, _ in cells}
    assert pythons, "README support table has no rows"
    return cells


def _readme_summaries() -> list[tuple[list[str], str | None, list[str]]]:
    """Each "Supported Airflow ...: 3.1 (from 3.1.8), 3.2 and 3.3 ...; Python 3.10 to 3.13" of
    the README as (Airflow minors, Airflow floor, Python versions)."""
    text = " ".join(README.read_text().replace("*", "").split())
    found = []
    for airflow_text, first, last in re.findall(
        r"Supported Airflow[^:]*: ([^;]+); Python (3\.\d+) to (3\.\d+)", text
    ):
        floor = re.search(rf"\(from ({_VERSION})\)", airflow_text)
        minors = re.findall(r"(?<![\d.])(\d+\.\d+)(?![\d.])", re.sub(r"\([^)]*\)", "", airflow_text))
        pythons = [f"3.{n}" for n in range(int(first.split(".")[1]), int(last.split(".")[1]) + 1)]
        found.append((minors, floor.group(1) if floor else None, pythons))
    assert found, "README states no 'Supported Airflow ...; Python A to B' line"
    return found


def _matrix_runs() -> dict[str, tuple[str, str]]:
    """What scripts/ci/matrix.sh runs: row name -> (Python, Airflow), with the two runs its
    comments say stand without a row of their own: the main venv (every other CI step; newest
    Airflow on the default Python) named "main"."""
    text = MATRIX.read_text()
    default_python = re.search(r"the venv's (3\.\d+)", text)
    assert default_python, "matrix.sh no longer says which Python its empty Python column means"
    block = re.search(r"^ROWS=\(\n(.*?)^\)", text, re.MULTILINE | re.DOTALL)
    assert block, "no ROWS=( ... ) in matrix.sh"
    runs: dict[str, tuple[str, str]] = {}
    for row in re.findall(r'^\s*"([^"]*)"', block.group(1), re.MULTILINE):
        name, requirement, _date, *rest = row.split("|")
        python = (rest[1] if len(rest) > 1 else "") or default_python.group(1)
        pinned = re.fullmatch(rf"apache-airflow==({_VERSION})", requirement)
        if pinned:
            airflow = pinned.group(1)
        else:  # unpinned: only the floor run, whose --resolution lowest-direct takes pyproject's floor
            assert name == "lowest", f"matrix.sh row {row!r}"
            assert requirement == "apache-airflow", f"matrix.sh row {row!r}"
            assert "--resolution lowest-direct" in text
            airflow = _airflow_floor()
        runs[name] = (python, airflow)
    newest = max((airflow for _, airflow in runs.values()), key=_key)
    runs["main"] = (default_python.group(1), newest)
    return runs


def test_the_readme_support_table_is_what_the_matrix_runs():
    """Every Python x Airflow cell the README claims runs in scripts/ci/matrix.sh, and every run
    there is in the table: a row added, dropped or moved in either fails here."""
    claimed = _readme_table()
    runs = _matrix_runs()
    ran = set(runs.values())
    assert set(claimed) - ran == set(), "README claims combinations matrix.sh does not run"
    assert ran - set(claimed) == set(), "matrix.sh runs combinations the README table leaves out"
    # The annotated cells are the runs that say so.
    [lowest] = [combo for combo, cell in claimed.items() if "lowest dependencies" in cell]
    assert lowest == runs["lowest"]
    [main] = [combo for combo, cell in claimed.items() if "all of CI" in cell]
    assert main == runs["main"]


def test_the_readme_summaries_state_the_tables_versions():
    claimed = _readme_table()
    ran = set(_matrix_runs().values())
    pythons = sorted({python for python, _ in claimed}, key=_key)
    airflows = sorted({airflow for _, airflow in claimed}, key=_key)
    for minors, floor, summary_pythons in _readme_summaries():
        assert summary_pythons == pythons
        assert set(summary_pythons) <= {python for python, _ in ran}
        assert minors == sorted({_minor(airflow) for airflow in airflows}, key=_key)
        # The lower bound the README names is the table's oldest Airflow, and the matrix runs it.
        assert floor == airflows[0]
        assert floor in {airflow for _, airflow in ran}


def test_pyproject_bounds_agree_with_the_table():
    claimed = _readme_table()
    pythons = sorted({python for python, _ in claimed}, key=_key)
    airflows = sorted({airflow for _, airflow in claimed}, key=_key)
    project = _pyproject()["project"]
    # requires-python starts at the oldest Python claimed; an upper bound, if any, lies above the newest.
    specs = [s.strip() for s in project["requires-python"].split(",")]
    assert f">={pythons[0]}" in specs
    for spec in specs:
        if spec.startswith("<"):
            assert _key(spec.lstrip("<=")) > _key(pythons[-1]), spec
    # Airflow's floor is the table's oldest Airflow (the matrix's lowest-direct run takes it).
    assert _airflow_floor() == airflows[0]
    # "Dependencies are lower bounds only, and each is tested" (README): no pins, no caps.
    for dep in project["dependencies"]:
        assert re.fullmatch(r"[A-Za-z0-9_.\[\]-]+>=\d+(\.\d+)*", dep.replace(" ", "")), dep


def test_classifiers_name_exactly_the_pythons_in_the_table():
    pythons = {python for python, _ in _readme_table()}
    classifiers = _pyproject()["project"]["classifiers"]
    listed = {
        c.removeprefix("Programming Language :: Python :: ")
        for c in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    }
    assert listed == pythons
    assert "Programming Language :: Python :: 3 :: Only" in classifiers
    assert "Programming Language :: Python :: 3" in classifiers


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="CI's own venv only (.ci/run sets CI=true)")
def test_ci_runs_on_the_python_the_matrix_takes_as_its_default():
    """The table's "all of CI" cell is the Python of CI's main venv (`make install`'s python3)."""
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip(f"not the project's .venv: {sys.prefix}")
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == _matrix_runs()["main"][0]


def _wheel_test_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("wheel_test", ROOT / "scripts" / "ci" / "wheel_test.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sdist_check_of_make_wheel_test_refuses_tests_and_wants_the_package():
    """``make wheel-test`` checks the built sdist with ``sdist_problems``; here, that it can fail."""
    module = _wheel_test_module()
    check = module.sdist_problems
    top = "airflow_provider_rh-0.1.0"
    good = [top, *(f"{top}/{name}" for name in module.SDIST_REQUIRED)]
    good += [f"{top}/airflow_provider_rh/core/config.py", f"{top}/setup.cfg", f"{top}/MANIFEST.in"]
    assert check(good) == []
    # What setuptools shipped without MANIFEST.in: the loose tests/test_*.py, not the rest.
    [problem] = check([*good, f"{top}/tests", f"{top}/tests/test_release.py"])
    assert "tests/test_release.py" in problem
    dev = ("tests_deploy/conftest.py", "tests_browser/t.py", "bench/run.py", "scripts/demo.py", ".ci/run")
    for extra in (*dev, "conftest.py"):
        assert check([*good, f"{top}/{extra}"]) != [], extra
    for missing in ("LICENSE", "README.md", "CHANGELOG.md", "airflow_provider_rh/__init__.py"):
        assert check([m for m in good if m != f"{top}/{missing}"]) == [f"{missing} is missing"]
