"""Progress lines while a pull runs, at most one every ``interval`` seconds, and a summary.

Only counts and rates are reported: never a URL's query, a header, a token or a key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Seconds between progress lines: often enough to see a pull is alive, rare enough to read.
DEFAULT_INTERVAL = 5.0


def human_bytes(size: float) -> str:
    """``1.5 MiB`` style."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class PullSummary:
    """What a pull landed; small enough for XCom and an asset event's ``extra``."""

    destination: str
    paths: list[str]
    records: int
    pages: int
    bytes: int
    duration_seconds: float
    retries: int = 0
    token_requests: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "paths": list(self.paths),
            "files": len(self.paths),
            "records": self.records,
            "pages": self.pages,
            "bytes": self.bytes,
            "duration_seconds": round(self.duration_seconds, 3),
            "retries": self.retries,
            "token_requests": self.token_requests,
        }

    def line(self) -> str:
        rate = self.records / self.duration_seconds if self.duration_seconds > 0 else float(self.records)
        where = self.paths[0] if len(self.paths) == 1 else f"{len(self.paths)} files at {self.destination}"
        return (
            f"Landed {self.records} records from {self.pages} pages ({human_bytes(self.bytes)}) in "
            f"{self.duration_seconds:.1f} s ({rate:.0f} records/s, {self.retries} retries, "
            f"{self.token_requests} token requests): {where}"
        )


@dataclass
class Progress:
    """Counts pages, records and bytes pulled; reports through ``report`` every ``interval`` seconds."""

    report: Callable[[str], Any]
    interval: float = DEFAULT_INTERVAL
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    pages: int = 0
    records: int = 0
    bytes: int = 0

    def __post_init__(self) -> None:
        self.started = self.clock()
        self._last_report = self.started

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    def page(self, records: int, size: int) -> None:
        """One more page of ``records`` records in ``size`` bytes."""
        self.pages += 1
        self.records += records
        self.bytes += size
        now = self.clock()
        if now - self._last_report >= self.interval:
            self._last_report = now
            elapsed = now - self.started
            self.report(
                f"Pulled {self.pages} pages, {self.records} records, {human_bytes(self.bytes)} so far "
                f"in {elapsed:.0f} s ({self.records / elapsed if elapsed > 0 else 0:.0f} records/s)."
            )
