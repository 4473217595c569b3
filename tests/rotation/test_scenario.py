"""A certificate rotation from start to end against the sandbox, on one injected clock (issue 18).

The next certificate is set before the region registered it (runs succeed on the current one,
one fallback logged in the process), then registered (runs switch to it), then the current one
expires (runs go on), then the region removes the next one again (a clear error). Each "run"
is a fresh token provider and API client in the same process, as tasks of one worker are.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from airflow_provider_rh.core.client import ApiClient
from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.oauth import TokenProvider
from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.core.rotation import RotationMemory
from airflow_provider_rh.core.tokens import TokenCache
from airflow_provider_rh.exceptions import CertificateError, TokenError
from airflow_provider_rh.sandbox import Sandbox, SandboxConfig
from tests.pki import make_cert
from tests.sandbox.helpers import ANNAT, HSAINFO, FakeClock

from .support import secrets_of, watch_token_requests

pytestmark = pytest.mark.integration

DAY = 24 * 3600.0
CLIENT_ID = "6f1c2d1e-8b7a-4b8e-9a55-0d0f3c1a2b3c"
PASSPHRASE = "next-key-passphrase-91c2"
ROTATION_LOGGER = "airflow_provider_rh.core.rotation"
NO_RETRY = RetryPolicy(attempts=1)


@dataclass
class Seen:
    """Which certificate (x5t) signed each token request the sandbox answered, and how."""

    requests: list[tuple[str, bool]] = field(default_factory=list)

    def since(self, mark: int) -> list[tuple[str, bool]]:
        return self.requests[mark:]


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Seen:
    return Seen(watch_token_requests(monkeypatch))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(tmp_path, clock: FakeClock) -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(state_dir=tmp_path / "sb", port=0, unit_count=20, clock=clock)) as sb:
        yield sb


def test_rotation_from_next_certificate_to_expiry_without_a_failed_run(
    sandbox: Sandbox, seen: Seen, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    current = make_cert("minklient.example.se", days_valid=20)
    upcoming = make_cert("minklient.example.se", days_valid=730)
    sandbox.register_client(current.cert_pem, client_id=CLIENT_ID)
    sandbox.register_resource(HSAINFO, ["hsainfoapi.read"], {CLIENT_ID: ["hsainfoapi.read"]})
    sandbox.register_resource(ANNAT, ["annatapi.read"], [CLIENT_ID])
    cache = TokenCache(clock=clock)
    memory = RotationMemory(clock=clock, retry_after=15 * 60)
    extra = {
        "auth_url": sandbox.token_url,
        "certificate": current.cert_pem,
        "private_key": current.key_pem(),
        "resource": HSAINFO,
        "scopes": "hsainfoapi.read",
        "next_certificate": upcoming.cert_pem,
        "next_private_key": upcoming.key_pem(PASSPHRASE),
        "next_private_key_passphrase": PASSPHRASE,
    }
    x5t_current, x5t_next = _x5t(current), _x5t(upcoming)
    messages: list[str] = []

    def run(connection_extra: dict[str, Any], resource: str = HSAINFO) -> int:
        """One task: a fresh provider and client, one API call; the HTTP status."""
        config = ClientConfig.from_connection_fields(
            host=sandbox.base_url, login=CLIENT_ID, password=sandbox.subscription_key, extra=connection_extra
        )
        tokens = TokenProvider(config, cache=cache, retry=NO_RETRY, wall_clock=clock, rotation_memory=memory)
        client = ApiClient(config, tokens=tokens)
        try:
            if resource != HSAINFO:
                assert tokens.get_token(resource, "annatapi.read").value
                return 200
            return client.request("GET", "/units", params={"limit": 2}).status_code
        finally:
            client.close()

    caplog.set_level(logging.DEBUG, logger=ROTATION_LOGGER)

    def fallbacks() -> list[logging.LogRecord]:
        return [
            r
            for r in caplog.records
            if r.name == ROTATION_LOGGER and r.levelno >= logging.WARNING and "does not accept" in r.message
        ]

    # 1. The next certificate is set before the region registered it: the run succeeds on the
    #    current one after one refusal of the next, and says so once.
    mark = len(seen.requests)
    assert run(extra) == 200
    assert seen.since(mark) == [(x5t_next, False), (x5t_current, True)]
    assert len(fallbacks()) == 1
    # Within the back-off another token (another resource) does not try the next certificate again.
    clock.advance(5 * 60)
    mark = len(seen.requests)
    assert run(extra, resource=ANNAT) == 200
    assert seen.since(mark) == [(x5t_current, True)]
    # After the back-off, with the token expired, the next one is tried again, quietly.
    clock.advance(3600)
    mark = len(seen.requests)
    assert run(extra) == 200
    assert seen.since(mark) == [(x5t_next, False), (x5t_current, True)]
    assert len(fallbacks()) == 1, "one fallback logged per process"

    # 2. The region registers the next certificate (the sandbox's admin endpoint): runs switch.
    response = httpx.post(
        f"{sandbox.url}/sandbox/admin/clients/{CLIENT_ID}/certificates", content=upcoming.cert_pem
    )
    assert response.status_code == 201, response.text
    assert response.headers["X-Registered-X5t"] == x5t_next
    clock.advance(3600)
    mark = len(seen.requests)
    assert run(extra) == 200
    assert seen.since(mark) == [(x5t_next, True)]
    assert any("accepts the next certificate" in r.message for r in caplog.records)
    clock.advance(3600)
    mark = len(seen.requests)
    assert run(extra) == 200
    assert seen.since(mark) == [(x5t_next, True)]

    # 3. The current certificate expires: runs go on with the next one, nobody edited anything.
    clock.advance(21 * DAY)
    mark = len(seen.requests)
    assert run(extra) == 200
    assert seen.since(mark) == [(x5t_next, True)]
    assert any("has expired" in r.message for r in caplog.records if r.name == ROTATION_LOGGER)

    # 4. The region removes the next certificate again: a clear error naming both certificates.
    response = httpx.delete(f"{sandbox.url}/sandbox/admin/clients/{CLIENT_ID}/certificates/{x5t_next}")
    assert response.status_code == 200, response.text
    clock.advance(3600)
    with pytest.raises(TokenError) as refused:
        run(extra)
    message = str(refused.value)
    messages.append(message)
    assert "current certificate" in message
    assert "has expired" in message
    assert "does not accept the next certificate" in message
    assert "MSIS9622" in message
    assert refused.value.error == "invalid_client"
    # ... and a connection whose next certificate was removed says the current one expired.
    without_next = {k: v for k, v in extra.items() if not k.startswith("next_")}
    with pytest.raises(CertificateError, match="expired on") as expired:
        run(without_next)
    messages.append(str(expired.value))

    # No private key or passphrase of either certificate in any log line or message.
    texts = [r.getMessage() for r in caplog.records] + messages
    for secret in secrets_of(current, upcoming, passphrase=PASSPHRASE):
        for text in texts:
            assert secret not in text


def _x5t(cert: Any) -> str:
    from airflow_provider_rh.sandbox import pki

    return pki.x5t(cert.cert)
