"""Typed, frozen configuration of the sandbox: what it serves and which faults it injects."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PORT = 8765
DEFAULT_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
DEFAULT_STEP = dt.timedelta(minutes=5)
SUBSCRIPTION_KEY_HEADER = "Ocp-Apim-Subscription-Key"
SUBSCRIPTION_KEY_QUERY = "subscription-key"


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/rh-sandbox``, else ``~/.local/state/rh-sandbox``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "rh-sandbox"


@dataclass(frozen=True)
class Faults:
    """Faults injected into API responses and the token endpoint, all seeded so a run repeats.

    Each kind of fault draws from its own ``random.Random`` seeded from ``seed``, once per API
    request, so one request sequence always meets the same faults. With concurrent requests the
    arrival order, and so which request meets which fault, may vary.

    Example::

        Faults(seed=7, rate_limit_share=0.2, retry_after=1, server_error_share=0.1)
    """

    seed: int = 0
    latency_ms: int = 0
    """Delay before every API response (each page), in milliseconds."""
    rate_limit_share: float = 0.0
    """Share of API responses answered ``429`` with ``Retry-After``."""
    retry_after: int = 1
    """Seconds in the ``Retry-After`` header of a ``429``."""
    server_error_share: float = 0.0
    """Share of API responses answered with one of ``server_error_statuses``."""
    server_error_statuses: tuple[int, ...] = (500, 502, 503, 504)
    drop_share: float = 0.0
    """Share of API responses whose connection is dropped after the headers and half the body."""
    token_outage_seconds: float = 0.0
    """The token endpoint answers ``503`` for this long after the sandbox starts."""
    token_outage_requests: int = 0
    """The token endpoint answers ``503`` to this many first requests."""

    def __post_init__(self) -> None:
        for name in ("rate_limit_share", "server_error_share", "drop_share"):
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {share}")
        if self.rate_limit_share + self.server_error_share + self.drop_share > 1.0:
            raise ValueError("rate_limit_share + server_error_share + drop_share must not exceed 1")
        if not self.server_error_statuses or any(not 500 <= s <= 599 for s in self.server_error_statuses):
            raise ValueError("server_error_statuses must be non-empty 5xx codes")
        if min(self.latency_ms, self.retry_after, self.token_outage_requests) < 0:
            raise ValueError("latency_ms, retry_after and token_outage_requests must not be negative")
        if self.token_outage_seconds < 0:
            raise ValueError("token_outage_seconds must not be negative")


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox run needs; the defaults are what ``rh-sandbox`` starts with.

    ``clock`` (seconds since the epoch) is injectable so tests can expire tokens without
    sleeping; it drives assertion checks, token lifetimes, the gateway and the token outage.

    Example::

        SandboxConfig(state_dir=tmp_path, port=0, unit_count=250, faults=Faults(seed=1))
    """

    state_dir: Path = field(default_factory=default_state_dir)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    public_url: str | None = None
    """``scheme://host:port`` clients use, if not ``http://host:port`` (e.g. behind a proxy)."""
    unit_count: int = 10_000
    epoch: dt.datetime = DEFAULT_EPOCH
    step: dt.timedelta = DEFAULT_STEP
    token_lifetime: int = 3600
    clock_skew: float = 60.0
    max_assertion_lifetime: int = 600
    """AD FS refuses a client assertion whose ``exp`` is further ahead than this (seconds)."""
    faults: Faults = field(default_factory=Faults)
    subscription_key_header: str = SUBSCRIPTION_KEY_HEADER
    log_level: str = "warning"
    access_log: bool = False
    uvicorn_logging: bool = False
    """Let uvicorn install its log handlers (the CLI does; in-process tests keep their own)."""
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        if self.unit_count < 0:
            raise ValueError("unit_count must not be negative")
        if self.token_lifetime < 1:
            raise ValueError("token_lifetime must be at least 1 second")
        if self.step <= dt.timedelta(0):
            raise ValueError("step must be positive")
        if self.epoch.tzinfo is None:
            raise ValueError("epoch must be timezone-aware")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535")
