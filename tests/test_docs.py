"""The docs show code that runs: every block marked ``# dags_examples/NAME.py`` is in that file.

The example DAGs are run by tests (tests/transfers/test_example_dags.py,
tests/operators/test_example_lookup.py), so a block copied from one cannot go stale unnoticed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```python\n# (dags_examples/[\w.]+\.py)\n(.*?)```", re.DOTALL)
MARKDOWN = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])


def blocks() -> list[tuple[str, str, str]]:
    found = []
    for doc in MARKDOWN:
        for source, code in BLOCK.findall(doc.read_text()):
            found.append((doc.name, source, code))
    return found


def test_the_docs_quote_the_examples():
    assert {source for _, source, _ in blocks()} >= {
        "dags_examples/hsainfo_units_hourly.py",
        "dags_examples/hsainfo_unit_lookup.py",
        "dags_examples/hsainfo_mapped.py",
        "dags_examples/shapes_search_incremental.py",
        "dags_examples/shapes_odata_window.py",
        "dags_examples/shapes_odata_delta.py",
    }


@pytest.mark.parametrize(("doc", "source", "code"), blocks(), ids=lambda v: str(v)[:40])
def test_a_quoted_block_is_in_its_example(doc: str, source: str, code: str):
    text = (ROOT / source).read_text()
    assert code.strip("\n") in text, f"{doc}: the block from {source} differs from the file"


def test_the_images_the_docs_show_exist():
    for doc in MARKDOWN:
        for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", doc.read_text()):
            assert (doc.parent / image).is_file(), f"{doc.name} shows a missing image {image}"
