"""The signing key is imported once per credentials object, not for every client assertion."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from airflow_provider_rh.core import assertion
from airflow_provider_rh.core.assertion import build_client_assertion
from airflow_provider_rh.core.credentials import SigningCredentials, load_credentials
from tests.pki import make_cert

TOKEN_URL = "https://adfs.example.se/adfs/oauth2/token/"


@pytest.fixture
def imports(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every key import joserfc is asked for, by key type."""
    seen: list[str] = []
    for cls in (RSAKey, ECKey):
        original = cls.import_key.__func__  # type: ignore[attr-defined]

        def counting(kind: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            seen.append(kind.__name__)
            return _original(kind, *args, **kwargs)

        monkeypatch.setattr(cls, "import_key", classmethod(counting))
    return seen


def sign(creds: SigningCredentials, **kwargs: Any) -> str:
    return build_client_assertion(creds, client_id="client", audience=TOKEN_URL, **kwargs)


def test_many_assertions_import_the_key_once(imports: list[str]) -> None:
    cert = make_cert()
    creds = load_credentials(certificate=cert.cert_pem, private_key=cert.key_pem())
    tokens = [sign(creds) for _ in range(20)]
    assert imports == ["RSAKey"]
    assert len(set(tokens)) == 20  # still a fresh jti (and signature) each
    public = RSAKey.import_key(cert.public_pem)
    assert all(jwt.decode(token, public, algorithms=["RS256"]).claims["aud"] == TOKEN_URL for token in tokens)
    sign(creds, algorithm="PS256")
    assert imports.count("RSAKey") == 2  # the verification key above; signing still reused its own


def test_other_credentials_get_their_own_key_and_a_dropped_one_is_forgotten(imports: list[str]) -> None:
    first, second = make_cert(), make_cert("other.example.se")
    one = load_credentials(certificate=first.cert_pem, private_key=first.key_pem())
    two = load_credentials(certificate=second.cert_pem, private_key=second.key_pem())
    public_two = RSAKey.import_key(second.public_pem)
    jwt.decode(sign(two), public_two, algorithms=["RS256"])  # signed with two's key, not one's
    sign(one)
    sign(two)
    assert imports == ["RSAKey", "RSAKey", "RSAKey"]  # verification, two, one
    held = len(assertion._KEYS)
    del one
    gc.collect()
    assert len(assertion._KEYS) == held - 1  # no key outlives its credentials


def test_an_ec_key_is_imported_once_too(imports: list[str]) -> None:
    cert = make_cert(key_type="ec")
    creds = load_credentials(certificate=cert.cert_pem, private_key=cert.key_pem())
    for _ in range(5):
        sign(creds)
    assert imports == ["ECKey"]
