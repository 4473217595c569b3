"""The pull loop: pages in, records out, atomically; the only place both sides meet."""

from __future__ import annotations

from collections.abc import Callable, Iterable

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
