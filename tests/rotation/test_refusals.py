"""Which refusal of the next certificate falls back to the current one: AD FS's MSIS9622 with HTTP
400 (as the real AD FS answers) or 401 (other servers), and nothing else; a next certificate that
is expired, malformed or not its key's is named by its field and runs keep the current one."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import httpx
import pytest

from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.oauth import TokenProvider
from airflow_provider_rh.core.rotation import (
    CURRENT,
    Rotation,
    RotationMemory,
    expiry_warnings,
    load_signers,
    means_not_registered,
)
from airflow_provider_rh.core.tokens import TokenCache
from airflow_provider_rh.exceptions import CertificateError, TokenError
from airflow_provider_rh.sandbox import pki
from airflow_provider_rh.sandbox.errors import MSIS9622
from tests.core._seams import TOKEN_URL, form, token_response
from tests.pki import TestCert, make_cert
from tests.sandbox.helpers import FakeClock

from .support import secrets_of

ROTATION_LOGGER = "airflow_provider_rh.core.rotation"
CURRENT_CERT = make_cert("minklient.example.se", days_valid=90)
NEXT_CERT = make_cert("minklient.example.se", days_valid=730)
PASSPHRASE = "next-passphrase-for-refusals"
NOT_REGISTERED = {"error": "invalid_client", "error_description": MSIS9622}


def _x5t(cert: TestCert) -> str:
    return pki.x5t(cert.cert)


def _signer_x5t(request: httpx.Request) -> str:
    from airflow_provider_rh.sandbox.assertion import unverified_header_and_claims

    header, _ = unverified_header_and_claims(form(request)["client_assertion"])
    return str(header["x5t"])


def _config(**extra: Any) -> ClientConfig:
    values: dict[str, Any] = {
        "auth_url": TOKEN_URL,
        "resource": "hsainfoapi.regionhalland.se",
        "scopes": "hsainfoapi.read",
        "certificate": CURRENT_CERT.cert_pem,
        "private_key": CURRENT_CERT.key_pem(),
        "next_certificate": NEXT_CERT.cert_pem,
        "next_private_key": NEXT_CERT.key_pem(PASSPHRASE),
        "next_private_key_passphrase": PASSPHRASE,
    }
    values.update(extra)
    values = {k: v for k, v in values.items() if v is not None}
    return ClientConfig.from_connection_fields(
        host="https://api.example.se/hsainfo/v1", login="client-guid", password="sub-key-123", extra=values
    )


def _provider(handler: Any, clock: FakeClock, **extra: Any) -> TokenProvider:
    return TokenProvider(
        _config(**extra),
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        cache=TokenCache(clock=clock),
        rotation_memory=RotationMemory(clock=clock, retry_after=15 * 60),
        wall_clock=clock,
    )


def _refusal(status: int | None, error: str | None, description: str | None) -> TokenError:
    return TokenError("refused", status_code=status, error=error, error_description=description)


@pytest.mark.parametrize(
    ("status", "error", "description", "falls_back"),
    [
        pytest.param(400, "invalid_client", MSIS9622, True, id="adfs-400-msis9622"),
        pytest.param(401, "invalid_client", MSIS9622, True, id="401-msis9622"),
        pytest.param(
            400, "invalid_client", f"{MSIS9622} Sandbox: header 'x5t' matches no ...", True, id="sandbox"
        ),
        pytest.param(
            401, "invalid_client", "AADSTS700027: The certificate ... is not registered", True, id="entra"
        ),
        pytest.param(401, "invalid_client", None, True, id="invalid-client-bare"),
        pytest.param(400, "invalid_client", "Invalid client credentials", True, id="invalid-client-text"),
        pytest.param(401, "invalid_client", "AADSTS7000215: Invalid client secret", False, id="other-aadsts"),
        pytest.param(400, "invalid_client", "MSIS9607: grant refused", False, id="other-msis"),
        pytest.param(400, "invalid_request", "MSIS9602: resource not registered", False, id="resource"),
        pytest.param(400, "invalid_scope", None, False, id="scope"),
        pytest.param(503, None, None, False, id="outage"),
        pytest.param(401, "invalid_client", "AADSTS7000274: x", False, id="longer-code-is-not-700027"),
    ],
)
def test_only_an_unknown_credential_means_not_registered(status, error, description, falls_back):
    assert means_not_registered(_refusal(status, error, description)) is falls_back


@pytest.mark.parametrize("status", [400, 401])
def test_the_next_certificate_refused_as_unknown_falls_back_whatever_the_status(status, caplog):
    """AD FS answers 400, other servers 401: both fall back at once, in the same request."""
    clock = FakeClock()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(_signer_x5t(request))
        if seen[-1] == _x5t(NEXT_CERT):
            return httpx.Response(status, json=NOT_REGISTERED)
        return token_response(f"tok-{len(seen)}")

    caplog.set_level(logging.DEBUG, logger=ROTATION_LOGGER)
    tokens = _provider(handler, clock)
    assert tokens.get_token().value == "tok-2"
    assert seen == [_x5t(NEXT_CERT), _x5t(CURRENT_CERT)]
    warned = [r for r in caplog.records if r.name == ROTATION_LOGGER and r.levelno == logging.WARNING]
    assert len(warned) == 1
    assert "MSIS9622" in warned[0].getMessage()


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": "invalid_request", "error_description": "MSIS9602: resource not registered"}),
        (401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret"}),
        (400, {"error": "invalid_scope"}),
    ],
)
def test_any_other_refusal_of_the_next_certificate_is_reported_as_it_is(status, body):
    clock = FakeClock()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(_signer_x5t(request))
        return httpx.Response(status, json=body)

    with pytest.raises(TokenError) as refused:
        _provider(handler, clock).get_token()
    assert seen == [_x5t(NEXT_CERT)]  # no fallback: the refusal is not about the certificate
    assert refused.value.status_code == status
    assert refused.value.error == body["error"]


# -- a next certificate that cannot be used ------------------------------------------------
def _runs_use_the_current_certificate(caplog: pytest.LogCaptureFixture, **extra: Any) -> str:
    """One token request with ``extra``: signed by the current certificate; the warning logged."""
    clock = FakeClock()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(_signer_x5t(request))
        return token_response()

    caplog.clear()
    caplog.set_level(logging.WARNING, logger=ROTATION_LOGGER)
    assert _provider(handler, clock, **extra).get_token().value == "tok-1"
    assert seen == [_x5t(CURRENT_CERT)]
    (warning,) = [r.getMessage() for r in caplog.records if r.name == ROTATION_LOGGER]
    assert "The next certificate cannot be used, runs sign with the current one" in warning
    return warning


def test_an_expired_next_certificate_is_named_and_runs_keep_the_current_one(caplog):
    expired = make_cert("minklient.example.se", days_valid=-1)
    warning = _runs_use_the_current_certificate(
        caplog, next_certificate=expired.cert_pem, next_private_key=expired.key_pem()
    )
    assert "Next certificate (PEM) (extra.next_certificate)" in warning
    assert "expired on" in warning
    assert "rh-register rotate" in warning
    signers = load_signers(
        _config(next_certificate=expired.cert_pem, next_private_key=expired.key_pem()), now=_now()
    )
    assert signers.next is None
    assert signers.next_error is not None
    assert signers.next_error.field == "next_certificate"


def test_an_expired_next_certificate_file_names_the_file_field(caplog, tmp_path):
    expired = make_cert("minklient.example.se", days_valid=-1)
    bundle = tmp_path / "next.pem"
    bundle.write_text(expired.cert_pem + expired.key_pem())
    warning = _runs_use_the_current_certificate(
        caplog,
        next_certificate=None,
        next_private_key=None,
        next_private_key_passphrase=None,
        next_certificate_path=str(bundle),
    )
    assert "Next certificate file path (extra.next_certificate_path)" in warning
    assert "expired on" in warning


def test_a_malformed_next_certificate_is_named_and_runs_keep_the_current_one(caplog):
    broken = NEXT_CERT.cert_pem.replace(NEXT_CERT.cert_pem.splitlines()[3], "A" * 64)
    warning = _runs_use_the_current_certificate(caplog, next_certificate=broken)
    assert "extra.next_certificate" in warning
    assert "extra.certificate)" not in warning


def test_a_next_key_that_is_not_the_next_certificates_is_named(caplog):
    stranger = make_cert("stranger.example.se")
    warning = _runs_use_the_current_certificate(
        caplog, next_private_key=stranger.key_pem(), next_private_key_passphrase=None
    )
    assert "does not belong to the certificate" in warning
    assert "(extra.next_private_key) and Next certificate (PEM) (extra.next_certificate)" in warning
    assert "extra.private_key)" not in warning


def test_a_wrong_next_passphrase_is_named_without_the_passphrase(caplog):
    warning = _runs_use_the_current_certificate(caplog, next_private_key_passphrase="not-the-passphrase-1")
    assert "extra.next_private_key" in warning
    for secret in [*secrets_of(NEXT_CERT, passphrase=PASSPHRASE), "not-the-passphrase-1"]:
        assert secret not in warning


def test_with_the_current_certificate_expired_an_unusable_next_one_is_a_clear_error():
    expired_next = make_cert("minklient.example.se", days_valid=-1)
    config = _config(next_certificate=expired_next.cert_pem, next_private_key=expired_next.key_pem())
    after_current = CURRENT_CERT.cert.not_valid_after_utc + dt.timedelta(days=1)
    rotation = Rotation(config, wall_clock=lambda: after_current.timestamp())
    with pytest.raises(CertificateError) as info:
        rotation.plan()
    message = str(info.value)
    assert "expired on" in message
    assert "The next certificate cannot be used either" in message
    assert "extra.next_certificate" in message
    assert [
        line
        for line in expiry_warnings(rotation.signers, now=after_current, days=30)
        if "has expired" in line
    ]
    assert rotation.signers.current.role == CURRENT


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def test_tokens_stay_cached_per_certificate_that_signed_them():
    clock = FakeClock()
    registered = {"next": False}
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(_signer_x5t(request))
        if seen[-1] == _x5t(NEXT_CERT) and not registered["next"]:
            return httpx.Response(400, json=NOT_REGISTERED)
        return token_response(f"tok-{len(seen)}-{'next' if seen[-1] == _x5t(NEXT_CERT) else 'current'}")

    tokens = _provider(handler, clock)
    assert tokens.get_token().value == "tok-2-current"
    # Within the back-off: the current certificate's cached token, no request at all.
    clock.advance(10 * 60)
    assert tokens.get_token().value == "tok-2-current"
    assert len(seen) == 2
    # Registered, back-off over, the current token still valid: the next certificate signs a token
    # of its own, cached under its own thumbprint beside the current one's.
    registered["next"] = True
    clock.advance(6 * 60)
    assert tokens.get_token().value == "tok-3-next"
    assert tokens.get_token().value == "tok-3-next"
    assert seen == [_x5t(NEXT_CERT), _x5t(CURRENT_CERT), _x5t(NEXT_CERT)]
    signers = tokens.rotation.signers
    assert signers.next is not None
    by_current = tokens.cache.get(tokens.key(credentials=signers.current.credentials))
    by_next = tokens.cache.get(tokens.key(credentials=signers.next.credentials))
    assert by_current is not None
    assert by_current.value == "tok-2-current"
    assert by_next is not None
    assert by_next.value == "tok-3-next"
