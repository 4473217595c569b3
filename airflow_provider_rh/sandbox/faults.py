"""Seeded faults: latency, 429 with ``Retry-After``, 5xx, dropped connections, token outage.

Every API request draws once from each fault's own ``random.Random`` (seeded from
:attr:`Faults.seed` and the fault's name), so switching one fault on never changes when another
fires, and the same request sequence meets the same faults. When a request draws several, the
first of 429, 5xx, drop wins. Faults come after the gateway's checks: a refused request draws
nothing.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from dataclasses import dataclass
from typing import Literal

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airflow_provider_rh.sandbox.config import Faults
from airflow_provider_rh.sandbox.stats import Stats

_MESSAGES = {
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class DroppedConnection(Exception):
    """Raised after half a body is sent, so uvicorn aborts the connection mid-response."""


@dataclass(frozen=True)
class Fault:
    """One injected fault: ``kind`` and, for answered faults, the status."""

    kind: Literal["rate_limit", "server_error", "drop"]
    status: int | None = None

    @property
    def label(self) -> str:
        return "drop" if self.status is None else str(self.status)


class FaultInjector:
    """Decides, reproducibly, which fault (if any) each API request and token request meets."""

    def __init__(self, faults: Faults, *, started_at: float) -> None:
        self.faults = faults
        self._started_at = started_at
        self._lock = threading.Lock()
        self._rate = random.Random(f"{faults.seed}:rate_limit")
        self._error = random.Random(f"{faults.seed}:server_error")
        self._drop = random.Random(f"{faults.seed}:drop")
        self._token_requests = 0

    def decide(self) -> Fault | None:
        """The fault for the next API request, or None."""
        f = self.faults
        with self._lock:
            rate, error, drop = self._rate.random(), self._error.random(), self._drop.random()
            status = self._error.choice(f.server_error_statuses)
        if rate < f.rate_limit_share:
            return Fault("rate_limit", 429)
        if error < f.server_error_share:
            return Fault("server_error", status)
        if drop < f.drop_share:
            return Fault("drop")
        return None

    def token_outage(self, now: float) -> bool:
        """Whether this token request falls in the configured outage (counts the request)."""
        with self._lock:
            self._token_requests += 1
            count = self._token_requests
        return (
            count <= self.faults.token_outage_requests
            or now - self._started_at < self.faults.token_outage_seconds
        )


class FaultsMiddleware:
    """ASGI middleware injecting the decided fault into API responses (not ``/health``)."""

    def __init__(self, app: ASGIApp, *, injector: FaultInjector, stats: Stats) -> None:
        self.app = app
        self.injector = injector
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].endswith("/health"):
            await self.app(scope, receive, send)
            return
        faults = self.injector.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        fault = self.injector.decide()
        if fault is None:
            await self.app(scope, receive, send)
            return
        self.stats.count_fault(fault.label)
        if fault.kind == "rate_limit":
            message = f"Rate limit is exceeded. Try again in {faults.retry_after} seconds."
            headers = {"Retry-After": str(faults.retry_after)}
            await JSONResponse({"statusCode": 429, "message": message}, 429, headers)(scope, receive, send)
        elif fault.status is not None:
            body = {"statusCode": fault.status, "message": _MESSAGES.get(fault.status, "Server error")}
            await JSONResponse(body, fault.status)(scope, receive, send)
        else:
            await self.app(scope, receive, _truncating(send))


def _truncating(send: Send) -> Send:
    async def truncated_send(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        body: bytes = message.get("body", b"")
        await send({"type": "http.response.body", "body": body[: max(1, len(body) // 2)], "more_body": True})
        raise DroppedConnection("connection dropped on purpose by rh-sandbox faults")

    return truncated_send


class QuietDrops(logging.Filter):
    """Keeps uvicorn from logging a traceback for every deliberately dropped connection."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


def install_log_filter() -> None:
    """Attach :class:`QuietDrops` to ``uvicorn.error`` once."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, QuietDrops) for f in logger.filters):
        logger.addFilter(QuietDrops())
