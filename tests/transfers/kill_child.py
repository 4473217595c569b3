"""A pull that stops at a chosen point and waits there to be killed (for ``test_kill.py``).

``python -m tests.transfers.kill_child POINT DESTINATION MARKER [MAX_RECORDS_PER_FILE]``

At ``POINT`` it creates the file ``MARKER`` and blocks, so the test kills it exactly there,
without guessing with sleeps:

- ``first``: before the first page is asked for (the hook point is the pagination's ``first``);
- ``mid``: after the second page has been written (the pagination's ``next`` for page 2);
- ``move``: at the final move into place (a local filesystem whose ``mv`` blocks); with parts,
  at the second move, after the first part is already in place.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from fsspec.implementations.local import LocalFileSystem

from airflow_provider_rh.pagination import NextLinkPagination, Page, PageRequest
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

#: Nobody should wait this long; a child its test forgot exits on its own.
ORPHAN_SECONDS = 300


def stop_here(marker: Path) -> None:
    """Tell the test where we are, then wait to be killed."""
    partial = marker.with_suffix(".part")
    partial.write_text(str(os.getpid()))
    partial.rename(marker)  # appears whole
    threading.Event().wait(ORPHAN_SECONDS)
    os._exit(3)


class StoppingPagination(NextLinkPagination):
    """``NextLinkPagination`` that stops before the first page or after page 2."""

    def __init__(self, point: str, marker: Path) -> None:
        super().__init__("next")
        self._point, self._marker = point, marker

    def first(self, path: str, params: Mapping[str, Any] | None) -> PageRequest:
        if self._point == "first":
            stop_here(self._marker)
        return super().first(path, params)

    def next(self, page: Page) -> PageRequest | None:
        if self._point == "mid" and page.number == 2:
            stop_here(self._marker)
        return super().next(page)


class StoppingFileSystem(LocalFileSystem):
    """Local disk whose ``mv`` number ``stop_at`` (1-based) stops before moving."""

    def __init__(self, marker: Path, stop_at: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._marker, self._stop_at, self._moves = marker, stop_at, 0

    def mv(self, path1: Any, path2: Any, *args: Any, **kwargs: Any) -> Any:
        self._moves += 1
        if self._moves == self._stop_at:
            stop_here(self._marker)
        return super().mv(path1, path2, *args, **kwargs)


def try_of_pull_units(try_number: int) -> SimpleNamespace:
    """The task instance the temporaries are named after (a retry is the same one, try + 1)."""
    return SimpleNamespace(
        dag_id="kill",
        run_id="scheduled__2026-01-01",
        task_id="pull_units",
        map_index=-1,
        try_number=try_number,
    )


def main() -> None:
    point, destination, marker_name = sys.argv[1:4]
    per_file = int(sys.argv[4]) if len(sys.argv) > 4 else None
    marker = Path(marker_name)
    if point == "move":
        from airflow.sdk.io import attach

        # ObjectStoragePath("file://...") uses the store attached under the alias "file".
        attach("file", fs=StoppingFileSystem(marker, stop_at=2 if per_file else 1, skip_instance_cache=True))
    RegionHallandApiToStorageOperator(
        task_id="pull_units",
        path="/units",
        query_params={"limit": 50},
        records_path="items",
        pagination=StoppingPagination(point, marker),
        destination=destination,
        max_records_per_file=per_file,
    ).execute({"ti": try_of_pull_units(1)})  # the try that is killed; the test's rerun is try 2
    sys.exit(4)  # got through: the test expected to kill it on the way


if __name__ == "__main__":
    main()
