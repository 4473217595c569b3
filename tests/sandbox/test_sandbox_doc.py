"""docs/sandbox.md states the sample data as the sandbox makes it, and lists every endpoint."""

from __future__ import annotations

import json
import re
from pathlib import Path

from airflow_provider_rh.sandbox.__main__ import EPILOG
from airflow_provider_rh.sandbox.api import DEFAULT_LIMIT, MAX_LIMIT
from airflow_provider_rh.sandbox.config import DEFAULT_EPOCH
from airflow_provider_rh.sandbox.data import id_range, unit, updated_at

DOC = (Path(__file__).resolve().parents[2] / "docs" / "sandbox.md").read_text()


def test_the_example_record_is_record_1():
    block = re.search(r"```json\n(.*?)```", DOC, re.DOTALL).group(1)  # type: ignore[union-attr]
    assert json.loads(block) == unit(1)


def test_the_stated_times_and_ranges():
    import datetime as dt

    for i, text in ((1, "2026-01-01T00:05:00Z"), (12, "2026-01-01T01:00:00Z"), (288, "2026-01-02T00:00:00Z"),
                    (10_000, "2026-02-04T17:20:00Z")):  # fmt: skip
        assert unit(i)["updated"] == text
        assert f"`{text}`" in DOC
    day = id_range(10_000, updated_before=DEFAULT_EPOCH + dt.timedelta(days=1))
    assert (day.start, day.stop - 1) == (1, 287)
    hour = id_range(10_000, updated_since=updated_at(276), updated_before=updated_at(288))
    assert (hour.start, hour.stop - 1) == (276, 287)
    assert f"**{DEFAULT_LIMIT} records a page by default**, at most **{MAX_LIMIT:,}**" in DOC


def test_every_endpoint_in_the_help_is_in_the_doc():
    listed = re.search(r"/hsainfo/v1/\{([^}]*)\}", EPILOG).group(1).split(",")  # type: ignore[union-attr]
    for name in listed:
        path = "/hsainfo/v1/units/{id}" if name == "units/ID" else f"/hsainfo/v1/{name}"
        assert f"`GET {path}`" in DOC, path
