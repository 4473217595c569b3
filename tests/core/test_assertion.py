"""The client assertion JWT: exactly what AD FS (RFC 7523) expects."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from airflow_provider_rh.core.assertion import (
    CLOCK_SKEW_ALLOWANCE,
    MAX_LIFETIME,
    build_client_assertion,
    parse_header_references,
)
from airflow_provider_rh.core.credentials import load_credentials
from airflow_provider_rh.exceptions import ConfigurationError
from tests.pki import make_cert

CLIENT_ID = "6b0e4c8e-2a47-4d2b-9d3f-0c1b2a3d4e5f"
TOKEN_URL = "https://adfs.example.se/adfs/oauth2/token/"


@pytest.fixture(scope="module")
def cert():
    return make_cert()


@pytest.fixture(scope="module")
def creds(cert):
    return load_credentials(certificate=cert.cert_pem, private_key=cert.key_pem())


def _decode(token, cert, algorithms=("RS256",)):
    key = RSAKey.import_key(cert.public_pem)
    return jwt.decode(token, key, algorithms=list(algorithms))


def test_adfs_shape(creds, cert):
    token = build_client_assertion(creds, client_id=CLIENT_ID, audience=TOKEN_URL, now=lambda: 1_800_000_000)
    decoded = _decode(token, cert)
    assert decoded.header["alg"] == "RS256"
    assert decoded.header["x5t"] == creds.x5t
    assert "kid" not in decoded.header
    claims = decoded.claims
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert claims["aud"] == TOKEN_URL
    assert claims["iat"] == claims["nbf"] == 1_800_000_000 - CLOCK_SKEW_ALLOWANCE
    assert 0 < claims["exp"] - 1_800_000_000 <= MAX_LIFETIME


def test_every_assertion_has_a_fresh_jti(creds, cert):
    jtis = {
        _decode(build_client_assertion(creds, client_id=CLIENT_ID, audience=TOKEN_URL), cert).claims["jti"]
        for _ in range(5)
    }
    assert len(jtis) == 5


def test_header_references_are_switchable(creds, cert):
    token = build_client_assertion(
        creds, client_id=CLIENT_ID, audience=TOKEN_URL, header_references=("x5t#S256", "kid")
    )
    header = _decode(token, cert).header
    assert header["x5t#S256"] == creds.x5t_s256
    assert header["kid"] == creds.x5t
    assert "x5t" not in header


def test_ps256_and_es256(creds, cert):
    token = build_client_assertion(creds, client_id=CLIENT_ID, audience=TOKEN_URL, algorithm="PS256")
    assert _decode(token, cert, ("PS256",)).header["alg"] == "PS256"
    ec = make_cert(key_type="ec")
    ec_creds = load_credentials(certificate=ec.cert_pem, private_key=ec.key_pem())
    token = build_client_assertion(ec_creds, client_id=CLIENT_ID, audience=TOKEN_URL)
    decoded = jwt.decode(token, ECKey.import_key(ec.public_pem), algorithms=["ES256"])
    assert decoded.header["alg"] == "ES256"


def test_lifetime_over_ten_minutes_is_refused(creds):
    with pytest.raises(ConfigurationError, match="lifetime"):
        build_client_assertion(creds, client_id=CLIENT_ID, audience=TOKEN_URL, lifetime=MAX_LIFETIME + 1)


def test_rsa_key_cannot_sign_es256(creds):
    with pytest.raises(ConfigurationError, match="RSA key"):
        build_client_assertion(creds, client_id=CLIENT_ID, audience=TOKEN_URL, algorithm="ES256")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ("x5t",)), ("", ("x5t",)), ("kid", ("kid",)), ("x5t, x5t#S256,x5t", ("x5t", "x5t#S256"))],
)
def test_parse_header_references(value, expected):
    assert parse_header_references(value) == expected


def test_unknown_header_reference_names_the_field():
    with pytest.raises(ConfigurationError, match="x5c") as info:
        parse_header_references("x5t,x5c")
    assert info.value.field == "assertion_header"
