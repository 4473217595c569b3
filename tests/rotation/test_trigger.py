"""The deferrable path during a rotation: the trigger's token requests choose, fall back and
switch exactly like a task's (same :class:`~airflow_provider_rh.core.rotation.Rotation`)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.core.rotation import SHARED_ROTATION_MEMORY
from airflow_provider_rh.sandbox import Sandbox, SandboxConfig
from airflow_provider_rh.triggers.regionhalland import RegionHallandApiTrigger
from tests.pki import make_cert
from tests.sandbox.helpers import FakeClock, x5t_of

from .support import secrets_of, watch_token_requests

pytestmark = pytest.mark.integration

ROTATION_LOGGER = "airflow_provider_rh.core.rotation"
NEXT = make_cert("sandboxclient.example.se", days_valid=730)
PASSPHRASE = "trigger-next-passphrase"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    """The process's rotation memory on a fake clock, empty before and after."""
    fake = FakeClock()
    SHARED_TOKEN_CACHE.clear()
    SHARED_ROTATION_MEMORY.clear()
    monkeypatch.setattr(SHARED_ROTATION_MEMORY, "_clock", fake)
    yield fake
    SHARED_TOKEN_CACHE.clear()
    SHARED_ROTATION_MEMORY.clear()


@pytest.fixture
def signed_by(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """``(x5t, accepted)`` of each token request the sandbox answered."""
    return watch_token_requests(monkeypatch)


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(state_dir=tmp_path / "sb", port=0, unit_count=5)) as sb:
        connection = sb.connection
        connection["extra"] |= {
            "next_certificate": NEXT.cert_pem,
            "next_private_key": NEXT.key_pem(PASSPHRASE),
            "next_private_key_passphrase": PASSPHRASE,
        }
        monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", json.dumps(connection))
        yield sb


def first_event(trigger: RegionHallandApiTrigger) -> dict[str, Any]:
    async def first() -> Any:
        return await asyncio.wait_for(anext(trigger.run()), timeout=120)  # a safety bound only

    event = asyncio.run(first())
    assert isinstance(event.payload, dict)
    return event.payload


def test_the_trigger_falls_back_then_switches_like_a_task(sandbox, clock, signed_by, caplog):
    current, upcoming = x5t_of(sandbox.certificate_pem), x5t_of(NEXT.cert_pem)
    caplog.set_level(logging.DEBUG, logger=ROTATION_LOGGER)

    # Not registered yet: the next certificate is refused, the current one signs at once.
    event = first_event(RegionHallandApiTrigger(path="/health", poke_interval=0.01, timeout=10))
    assert event["status"] == "success", event
    assert signed_by == [(upcoming, False), (current, True)]
    warnings = [r for r in caplog.records if r.name == ROTATION_LOGGER and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "does not accept the next certificate" in warnings[0].getMessage()

    # Within the back-off, with no token cached, another trigger goes straight to the current one.
    SHARED_TOKEN_CACHE.clear()
    del signed_by[:]
    assert first_event(RegionHallandApiTrigger(path="/health", poke_interval=0.01, timeout=10))["status"] == (
        "success"
    )
    assert signed_by == [(current, True)]

    # The region registers it; after the back-off the trigger signs with the next certificate.
    sandbox.ctx.registry.add_certificate(sandbox.client_id, NEXT.cert_pem)
    clock.advance(SHARED_ROTATION_MEMORY.retry_after)
    del signed_by[:]
    assert first_event(RegionHallandApiTrigger(path="/health", poke_interval=0.01, timeout=10))["status"] == (
        "success"
    )
    assert signed_by == [(upcoming, True)]
    assert any("accepts the next certificate" in r.getMessage() for r in caplog.records)
    warnings = [r for r in caplog.records if r.name == ROTATION_LOGGER and r.levelno == logging.WARNING]
    assert len(warnings) == 1, "one fallback logged per process"
    for secret in secrets_of(NEXT, passphrase=PASSPHRASE):
        assert secret not in caplog.text
