"""Token responses are checked field by field, and a cached token needs the right credentials."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.credentials import load_credentials
from airflow_provider_rh.core.oauth import TokenProvider
from airflow_provider_rh.core.tokens import MAX_ACCESS_TOKEN_CHARS, TokenCache, parse_token_response
from airflow_provider_rh.exceptions import CertificateError, TokenError
from tests.core._seams import CERT, Sleeps, make_client, make_config, policy, token_response
from tests.pki import make_cert


@pytest.mark.parametrize(
    ("payload", "field", "what"),
    [
        pytest.param({"access_token": "a", "expires_in": float("nan")}, "expires_in", "finite", id="nan"),
        pytest.param({"access_token": "a", "expires_in": "NaN"}, "expires_in", "finite", id="nan-text"),
        pytest.param({"access_token": "a", "expires_in": float("inf")}, "expires_in", "finite", id="inf"),
        pytest.param({"access_token": "a", "expires_in": 10**400}, "expires_in", "not a number", id="10^400"),
        pytest.param({"access_token": "a", "expires_in": "1e400"}, "expires_in", "finite", id="1e400-text"),
        pytest.param(
            {"access_token": "a", "expires_in": -5}, "expires_in", "already be expired", id="negative"
        ),
        pytest.param(
            {"access_token": "a", "expires_in": 10**12}, "expires_in", "more than a year", id="absurd"
        ),
        pytest.param({"access_token": "a", "expires_in": True}, "expires_in", "not a number", id="bool"),
        pytest.param({"access_token": "a", "expires_in": [1]}, "expires_in", "not a number", id="list"),
        pytest.param({"expires_in": 60}, "access_token", "missing", id="no-token"),
        pytest.param({"access_token": 12345}, "access_token", "not a string", id="number"),
        pytest.param({"access_token": {"v": 1}}, "access_token", "not a string", id="object"),
        pytest.param({"access_token": ""}, "access_token", "empty", id="empty"),
        pytest.param({"access_token": "ab\x00cd"}, "access_token", "control", id="nul"),
        pytest.param({"access_token": "ab\x1bcd"}, "access_token", "control", id="escape"),
        pytest.param({"access_token": "abcd\n"}, "access_token", "line breaks", id="newline"),
        pytest.param(
            {"access_token": "x" * (MAX_ACCESS_TOKEN_CHARS + 1)},
            "access_token",
            "characters long",
            id="too-long",
        ),
        pytest.param({"access_token": "a", "token_type": "mac"}, "token_type", "only bearer", id="mac"),
        pytest.param({"access_token": "a", "token_type": 7}, "token_type", "only bearer", id="type-number"),
        pytest.param(["a"], "JSON object", "not a JSON object", id="not-object"),
    ],
)
def test_unusable_token_response_is_refused_naming_the_field(payload, field, what):
    with pytest.raises(TokenError) as info:
        parse_token_response(payload, obtained_at=0.0)
    assert field in str(info.value)
    assert what in str(info.value)
    assert len(str(info.value)) < 400  # an absurd value is never quoted whole


def test_the_endpoint_and_resource_are_named_when_the_response_is_refused():
    client = make_client(lambda request: token_response("tok", expires_in="NaN"))
    with pytest.raises(TokenError) as info:
        client.tokens.get_token()
    assert "expires_in" in str(info.value)
    assert "adfs.example.se" in str(info.value)
    assert info.value.resource == "hsainfoapi.regionhalland.se"


def test_a_string_expires_in_still_works():
    assert parse_token_response({"access_token": "a", "expires_in": "3600"}, obtained_at=0).expires_in == 3600


# -- the cache and the credentials (issue 8, class 1) ------------------------------------------
PASSPHRASE = "right-passphrase"


def provider(cache: TokenCache, calls: list[str], cfg: ClientConfig) -> TokenProvider:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return token_response(f"tok-{len(calls)}")

    return TokenProvider(
        cfg,
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        cache=cache,
        retry=policy(Sleeps()),
    )


def test_a_wrong_passphrase_fails_even_when_a_good_connection_got_a_token():
    cache, calls = TokenCache(), []
    good = provider(
        cache,
        calls,
        make_config(
            certificate=CERT.cert_pem, private_key=CERT.key_pem(PASSPHRASE), private_key_passphrase=PASSPHRASE
        ),
    )
    assert good.get_token().value == "tok-1"
    bad = provider(
        cache,
        calls,
        make_config(
            certificate=CERT.cert_pem,
            private_key=CERT.key_pem(PASSPHRASE),
            private_key_passphrase="wrong-passphrase",
        ),
    )
    with pytest.raises(CertificateError) as info:
        bad.get_token()
    assert "Private key passphrase (extra.private_key_passphrase) is wrong" in str(info.value)
    assert calls == ["/adfs/oauth2/token/"]


def test_another_certificate_gets_its_own_token():
    cache, calls = TokenCache(), []
    other = make_cert("other.example.se")
    first = provider(cache, calls, make_config(certificate=CERT.cert_pem, private_key=CERT.key_pem()))
    second = provider(cache, calls, make_config(certificate=other.cert_pem, private_key=other.key_pem()))
    assert first.get_token().value == "tok-1"
    assert second.get_token().value == "tok-2"  # not the first connection's token
    assert first.get_token().value == "tok-1"
    assert len(calls) == 2


def test_a_mismatched_key_fails_before_a_cached_token_is_returned():
    cache, calls = TokenCache(), []
    other = make_cert("other.example.se")
    good = provider(cache, calls, make_config(certificate=CERT.cert_pem, private_key=CERT.key_pem()))
    good.get_token()
    mixed = provider(cache, calls, make_config(certificate=CERT.cert_pem, private_key=other.key_pem()))
    with pytest.raises(CertificateError, match="does not belong"):
        mixed.get_token()


def test_the_async_path_checks_credentials_before_the_cache_too():
    cache, calls = TokenCache(), []
    cfg = make_config(
        certificate=CERT.cert_pem, private_key=CERT.key_pem(PASSPHRASE), private_key_passphrase=PASSPHRASE
    )
    provider(cache, calls, cfg).get_token()
    bad = provider(
        cache,
        calls,
        make_config(
            certificate=CERT.cert_pem,
            private_key=CERT.key_pem(PASSPHRASE),
            private_key_passphrase="wrong-passphrase",
        ),
    )

    async def ask() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: token_response())) as client:
            await bad.aget_token(client)

    with pytest.raises(CertificateError, match="passphrase"):
        asyncio.run(ask())


def test_the_cache_key_names_the_certificate():
    creds = load_credentials(certificate=CERT.cert_pem, private_key=CERT.key_pem())
    tokens = TokenProvider(make_config(), cache=TokenCache(), credentials=creds)
    assert tokens.key().signer == creds.x5t_s256
