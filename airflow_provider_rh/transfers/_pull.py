"""The pull loop: pages in, records out, atomically; the only place both sides meet.

While it runs, the objects that existed before it are frozen out of the garbage collector
(:func:`gc.freeze`): a task process holds Airflow's few hundred thousand objects, and every full
collection that a page's thousands of new records trigger would walk them all again, which
measured as four fifths of the decoding time. Records are acyclic JSON trees that reference
counting frees; the collector still runs for everything the pull creates.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterable, Iterator

from airflow_provider_rh.pagination import Page
from airflow_provider_rh.transfers._progress import Progress, PullSummary
from airflow_provider_rh.transfers._sink import RecordSink


def pull(
    pages: Iterable[Page],
    sink: RecordSink,
    progress: Progress,
    *,
    destination: str,
    display: Callable[[str], str] = str,
) -> PullSummary:
    """Write every page's records to ``sink`` as they come; all or nothing lands.

    Any error, or an interruption Airflow raises in the task (a timeout, a SIGTERM), deletes
    the temporaries; a SIGKILL leaves only hidden ones behind, never a final path.
    """
    try:
        with frozen_heap():
            for page in pages:
                sink.write(page.records)
                progress.page(len(page.records), page.size)
            landed = sink.commit()
    except BaseException:
        sink.abort()
        raise
    return PullSummary(
        destination=destination,
        paths=[display(path) for path in landed],
        records=sink.records,
        pages=progress.pages,
        bytes=sink.bytes_written,
        duration_seconds=progress.elapsed,
    )


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the objects alive now out of the collector's way until the block ends.

    Unfreezes only what it froze: if someone had frozen before (Airflow does before forking),
    the permanent generation stays as it is, with this block's additions in it.
    """
    ours = gc.get_freeze_count() == 0
    gc.freeze()
    try:
        yield
    finally:
        if ours:
            gc.unfreeze()
