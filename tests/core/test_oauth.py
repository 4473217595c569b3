"""Token requests: the form AD FS wants, error hints, retries and discovery (edge cases on a seam)."""

from __future__ import annotations

import logging

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from airflow_provider_rh.core.assertion import CLIENT_ASSERTION_TYPE
from airflow_provider_rh.core.oauth import discovery_urls
from airflow_provider_rh.exceptions import DiscoveryError, TokenError, TransportError
from tests.core._seams import CERT, TOKEN_URL, Sleeps, form, make_client, token_response


def test_token_request_form_matches_the_platform_docs():
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert str(request.url) == TOKEN_URL
        seen.append(form(request))
        return token_response()

    client = make_client(handler)
    assert client.tokens.get_token().value == "tok-1"
    data = seen[0]
    assert data["grant_type"] == "client_credentials"
    assert data["client_id"] == "client-guid"
    assert data["client_assertion_type"] == CLIENT_ASSERTION_TYPE
    assert data["resource"] == "hsainfoapi.regionhalland.se"
    assert data["scope"] == "hsainfoapi.read"
    claims = jwt.decode(data["client_assertion"], RSAKey.import_key(CERT.public_pem)).claims
    assert claims["aud"] == TOKEN_URL  # exactly as written, trailing slash included


def test_each_token_request_logs_one_line_naming_the_resource_and_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(lambda request: token_response("the-access-token"))
    with caplog.at_level(logging.INFO, logger="airflow_provider_rh.core.oauth"):
        client.tokens.get_token()
        client.tokens.get_token()  # from the process's cache: no request, no line
    lines = [r.getMessage() for r in caplog.records if r.name == "airflow_provider_rh.core.oauth"]
    assert len(lines) == 1
    assert "resource 'hsainfoapi.regionhalland.se' from the token endpoint" in lines[0]
    assert "the-access-token" not in caplog.text


def test_assertion_audience_override():
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(form(request))
        return token_response()

    make_client(handler, assertion_audience="https://adfs.example.se/adfs").tokens.get_token()
    claims = jwt.decode(seen[0]["client_assertion"], RSAKey.import_key(CERT.public_pem)).claims
    assert claims["aud"] == "https://adfs.example.se/adfs"


def test_secrets_are_reported_as_they_appear():
    secrets: list[str] = []
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(form(request))
        return token_response("the-access-token")

    make_client(handler, secrets=secrets).tokens.get_token()
    assert seen[0]["client_assertion"] in secrets
    assert "the-access-token" in secrets


@pytest.mark.parametrize(
    ("status", "body", "hint_fragment"),
    [
        (
            400,
            {"error": "invalid_request", "error_description": "MSIS9601: No resource."},
            "Set Default resource id (extra.resource)",
        ),
        (
            400,
            {
                "error": "invalid_request",
                "error_description": "MSIS9602: The received 'x' is not a valid identifier.",
            },
            "not registered",
        ),
        (
            400,
            {"error": "invalid_request", "error_description": "MSIS9329: not a valid relying party"},
            "relying party",
        ),
        (
            400,
            {"error": "unauthorized_client", "error_description": "MSIS9321: client not allowed"},
            "Order access",
        ),
        (
            401,
            {"error": "invalid_client", "error_description": "MSIS9622: Client authentication failed."},
            "trailing slash",
        ),
        (400, {"error": "invalid_scope"}, "extra.scopes"),
        (400, {"error": "invalid_target"}, "RFC 8707"),
    ],
)
def test_token_errors_carry_server_words_and_a_hint(status, body, hint_fragment):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, json=body)

    with pytest.raises(TokenError) as info:
        make_client(handler).tokens.get_token()
    err = info.value
    assert err.status_code == status
    assert err.error == body["error"]
    assert hint_fragment in err.hint
    assert body["error"] in str(err)
    assert len(calls) == 1  # 4xx is not retried
    assert "client_assertion" not in str(err)
    assert "eyJ" not in str(err)


def test_5xx_and_429_are_retried_with_a_new_assertion_each_time():
    sleeps = Sleeps()
    jtis = []
    answers = iter(
        [
            httpx.Response(503),
            httpx.Response(429, headers={"Retry-After": "7"}),
            token_response("tok-after-retries"),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        jtis.append(form(request)["client_assertion"])
        return next(answers)

    assert make_client(handler, sleeps).tokens.get_token().value == "tok-after-retries"
    assert len(set(jtis)) == 3  # a fresh assertion (and jti) per attempt
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 0.5 * 1.25  # first backoff
    assert sleeps[1] == 7.0  # Retry-After honoured


def test_unreachable_token_endpoint_is_a_transport_error_after_bounded_attempts():
    sleeps = Sleeps()

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    with pytest.raises(TransportError, match="Could not reach https://adfs.example.se/adfs/oauth2/token/"):
        make_client(handler, sleeps).tokens.get_token()
    assert len(sleeps) == 4  # 5 attempts


def test_persistent_503_becomes_a_token_error():
    with pytest.raises(TokenError, match="HTTP 503"):
        make_client(lambda r: httpx.Response(503, text="down")).tokens.get_token()


def test_discovery_finds_the_adfs_token_endpoint():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/adfs/.well-known/openid-configuration":
            return httpx.Response(200, json={"token_endpoint": "https://adfs.example.se/adfs/oauth2/token/"})
        if request.url.path == "/adfs/oauth2/token/":
            return token_response()
        return httpx.Response(404)

    client = make_client(handler, auth_url=None, issuer="https://adfs.example.se")
    assert client.tokens.token_endpoint() == "https://adfs.example.se/adfs/oauth2/token/"
    assert client.tokens.get_token().value == "tok-1"


def test_discovery_failure_says_what_to_do():
    client = make_client(lambda r: httpx.Response(404), auth_url=None, issuer="https://idp.example.se/realm")
    with pytest.raises(DiscoveryError, match=r"set Token endpoint URL \(extra.auth_url\)"):
        client.tokens.token_endpoint()


def test_discovery_urls():
    assert discovery_urls("https://h/adfs") == ["https://h/adfs/.well-known/openid-configuration"]
    assert discovery_urls("https://h") == [
        "https://h/.well-known/openid-configuration",
        "https://h/adfs/.well-known/openid-configuration",
    ]
    assert discovery_urls("https://h/x/.well-known/openid-configuration") == [
        "https://h/x/.well-known/openid-configuration"
    ]
