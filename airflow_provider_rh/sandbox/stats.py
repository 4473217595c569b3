"""Thread-safe request counters, so tests can assert e.g. "no new token was requested"."""

from __future__ import annotations

import threading
from collections import Counter


class Stats:
    """Counts token requests, issued tokens, API requests per route and injected faults.

    Example::

        before = sb.stats.token_requests
        hook.run(...)
        assert sb.stats.token_requests == before
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._routes: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()

    @property
    def token_requests(self) -> int:
        """Every POST to the token endpoint, refused or not."""
        return self._get(self._counts, "token_requests")

    @property
    def tokens_issued(self) -> int:
        return self._get(self._counts, "tokens_issued")

    @property
    def api_requests(self) -> dict[str, int]:
        """API requests per route template (``/units``, ``/units/{id}``, ...), counted at the gateway."""
        with self._lock:
            return dict(self._routes)

    @property
    def api_requests_total(self) -> int:
        with self._lock:
            return sum(self._routes.values())

    @property
    def faults(self) -> dict[str, int]:
        """Injected faults per kind: ``"429"``, ``"500"``, ..., ``"drop"``, ``"token_outage"``."""
        with self._lock:
            return dict(self._faults)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._routes.clear()
            self._faults.clear()

    def count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def count_route(self, route: str) -> None:
        with self._lock:
            self._routes[route] += 1

    def count_fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def _get(self, counter: Counter[str], name: str) -> int:
        with self._lock:
            return counter[name]

    def __repr__(self) -> str:
        return (
            f"Stats(token_requests={self.token_requests}, tokens_issued={self.tokens_issued}, "
            f"api_requests={self.api_requests}, faults={self.faults})"
        )
