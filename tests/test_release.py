"""What a release relies on: one version, a licence that ships, install commands that work."""

from __future__ import annotations

import re
from pathlib import Path

import airflow_provider_rh
from airflow_provider_rh.get_provider_info import get_provider_info

ROOT = Path(__file__).resolve().parents[1]
# Not tomllib: the matrix collects every test on Python 3.10 too.
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
