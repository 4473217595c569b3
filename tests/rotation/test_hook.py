"""The hook during a rotation, against the sandbox: Test says which certificate AD FS accepts,
tasks fall back quietly, a broken next certificate names its own field (and 15.9)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.credentials import load_credentials
from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.core.rotation import SHARED_ROTATION_MEMORY, Rotation
from airflow_provider_rh.exceptions import CertificateError
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.sandbox import Sandbox, SandboxConfig
from tests.pki import make_cert

from .support import secrets_of

pytestmark = pytest.mark.integration

ROTATION_LOGGER = "airflow_provider_rh.core.rotation"
PASSPHRASE = "next-passphrase-for-tests"
NEXT = make_cert("sandboxclient.example.se", days_valid=730)
FAST = RetryPolicy(attempts=2, backoff_initial=0.01, backoff_max=0.02)


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    SHARED_TOKEN_CACHE.clear()
    SHARED_ROTATION_MEMORY.clear()
    yield
    SHARED_TOKEN_CACHE.clear()
    SHARED_ROTATION_MEMORY.clear()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(state_dir=tmp_path / "sb", port=0, unit_count=5)) as sb:
        yield sb


def use(monkeypatch: pytest.MonkeyPatch, sb: Sandbox, **extra: Any) -> None:
    connection = sb.connection
    connection["extra"] = {**connection["extra"], **extra}
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", json.dumps(connection))


def with_next(monkeypatch: pytest.MonkeyPatch, sb: Sandbox) -> None:
    use(
        monkeypatch,
        sb,
        next_certificate=NEXT.cert_pem,
        next_private_key=NEXT.key_pem(PASSPHRASE),
        next_private_key_passphrase=PASSPHRASE,
    )


def test_test_states_days_left_and_which_certificate_adfs_accepts(sandbox, monkeypatch):
    with_next(monkeypatch, sandbox)
    ok, message = RegionHallandHook(retry=FAST).test_connection()
    assert ok, message
    current, upcoming = message.split("; next certificate")
    assert "current certificate" in current
    assert "days left, AD FS: accepted" in current
    assert "days left, AD FS: NOT accepted (MSIS9622" in upcoming
    assert "/hsainfo/v1/health answered 200" in message

    sandbox.ctx.registry.add_certificate(sandbox.client_id, NEXT.cert_pem)
    ok, message = RegionHallandHook(retry=FAST).test_connection()
    assert ok, message
    assert message.count("AD FS: accepted") == 2
    for secret in secrets_of(NEXT, passphrase=PASSPHRASE):
        assert secret not in message


def test_test_without_rotation_states_the_days_left(sandbox, monkeypatch):
    use(monkeypatch, sandbox)
    ok, message = RegionHallandHook(retry=FAST).test_connection()
    assert ok, message
    assert "days left)" in message


def test_tasks_fall_back_with_one_line_per_process_and_retry_later(sandbox, monkeypatch, caplog):
    with_next(monkeypatch, sandbox)
    caplog.set_level(logging.DEBUG, logger=ROTATION_LOGGER)
    first = RegionHallandHook(retry=FAST)
    assert first.request("GET", "/units/1").status_code == 200
    assert sandbox.stats.token_requests == 2  # next refused, then current
    # Another task in the same process, another resource: straight to the current certificate.
    second = RegionHallandHook(retry=FAST, resource="annatapi.regionhalland.se", scopes="annatapi.read")
    second.get_token()
    assert sandbox.stats.token_requests == 3
    warnings = [r for r in caplog.records if r.name == ROTATION_LOGGER and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "does not accept the next certificate" in warnings[0].getMessage()
    assert "MSIS9622" in warnings[0].getMessage()
    for secret in secrets_of(NEXT, passphrase=PASSPHRASE):
        assert secret not in caplog.text


def test_a_next_certificate_file_with_a_foreign_key_names_that_field(sandbox, monkeypatch, tmp_path, caplog):
    stranger = make_cert("stranger.example.se")
    bundle = tmp_path / "next.pem"
    bundle.write_text(NEXT.cert_pem + stranger.key_pem())
    use(monkeypatch, sandbox, next_certificate_path=str(bundle))
    ok, message = RegionHallandHook(retry=FAST).test_connection()
    assert not ok
    assert message.startswith("next certificate check failed")
    assert "Next certificate file path (extra.next_certificate_path)" in message
    assert "extra.private_key" not in message
    assert "extra.certificate)" not in message
    # Runs are not stopped by it: they sign with the current certificate and say why.
    caplog.set_level(logging.WARNING, logger=ROTATION_LOGGER)
    assert RegionHallandHook(retry=FAST).request("GET", "/units/1").status_code == 200
    assert "The next certificate cannot be used" in caplog.text


def test_an_expired_next_certificate_fails_test_naming_it_while_runs_go_on(sandbox, monkeypatch, caplog):
    expired = make_cert("sandboxclient.example.se", days_valid=-1)
    use(monkeypatch, sandbox, next_certificate=expired.cert_pem, next_private_key=expired.key_pem())
    ok, message = RegionHallandHook(retry=FAST).test_connection()
    assert not ok
    assert message.startswith("next certificate check failed")
    assert "Next certificate (PEM) (extra.next_certificate)" in message
    assert "expired on" in message
    caplog.set_level(logging.WARNING, logger=ROTATION_LOGGER)
    assert RegionHallandHook(retry=FAST).request("GET", "/units/1").status_code == 200
    assert sandbox.stats.token_requests == 1  # the expired one is never sent
    assert "The next certificate cannot be used" in caplog.text
    for secret in secrets_of(expired):
        assert secret not in message
        assert secret not in caplog.text


def test_a_certificate_file_with_a_foreign_key_names_the_file_field(tmp_path):
    """Issue 15.9: not Private key (extra.private_key) and Certificate (PEM), never set."""
    own, stranger = make_cert(), make_cert("stranger.example.se")
    bundle = tmp_path / "client.pem"
    bundle.write_text(own.cert_pem + stranger.key_pem())
    with pytest.raises(CertificateError) as info:
        load_credentials(certificate_path=bundle)
    assert info.value.field == "certificate_path"
    assert "Certificate file path (extra.certificate_path)" in str(info.value)
    assert "extra.private_key" not in str(info.value)
    assert "extra.certificate)" not in str(info.value)


def test_tasks_warn_at_load_inside_the_warning_period(caplog):
    soon = make_cert(days_valid=10)
    config = ClientConfig.from_connection_fields(
        host=None,
        login="client",
        password=None,
        extra={
            "auth_url": "https://adfs.example.se/adfs/oauth2/token/",
            "certificate": soon.cert_pem,
            "private_key": soon.key_pem(),
            "expiry_warning_days": 14,
        },
    )
    caplog.set_level(logging.WARNING, logger=ROTATION_LOGGER)
    signers = Rotation(config).signers
    assert signers.next is None
    (record,) = [r for r in caplog.records if r.name == ROTATION_LOGGER]
    assert "expires soon" in record.getMessage()
    assert "warning from 14 days" in record.getMessage()
    assert "rh-register rotate" in record.getMessage()
