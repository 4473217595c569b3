"""No secret in any error message, whatever a server echoes back (issue 8, class 2)."""

from __future__ import annotations

import traceback

import httpx
import pytest

from airflow_provider_rh.core import redact
from airflow_provider_rh.core.assertion import CLIENT_ASSERTION_TYPE
from airflow_provider_rh.exceptions import (
    ApiError,
    ConfigurationError,
    RegionHallandError,
    TokenError,
    TransportError,
)
from tests.core._seams import form, make_client, token_response

SUBSCRIBER_KEY = "sub-key-123"  # what _seams.make_config puts in the password field
JWT_LIKE = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"token {JWT_LIKE} echoed", JWT_LIKE),
        ("Authorization: Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"),
        ('{"headers": {"Authorization": "Basic dXNlcjpwYXNz"}}', "dXNlcjpwYXNz"),
        ("got bearer mF_9.B5f-4.1JqM back", "mF_9.B5f-4.1JqM"),
        ("access_token=opaque-value-42&x=1", "opaque-value-42"),
        ('{"client_assertion": "opaque-assertion-value"}', "opaque-assertion-value"),
        ("Ocp-Apim-Subscription-Key: 0123456789abcdef", "0123456789abcdef"),
        (
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        ),
        (
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0w (cut off",
            "MIIFHDBOBgkqhkiG9w0BBQ0w",
        ),
    ],
)
def test_credential_shaped_text_is_masked_without_being_registered(text, secret):
    error = RegionHallandError(f"server said: {text}")
    assert secret not in str(error)
    assert "***" in str(error)
    assert str(error).startswith("server said: ")


def test_registered_secrets_are_masked_in_message_and_text_attributes():
    redact.register("my-very-secret-value")
    error = ApiError(
        "GET /x answered 401. Body: key my-very-secret-value",
        status_code=401,
        url="https://api.example.se/x",
        body_excerpt="echo my-very-secret-value",
    )
    assert "my-very-secret-value" not in str(error)
    assert "my-very-secret-value" not in error.body_excerpt
    assert "my-very-secret-value" not in repr(error)


def test_a_secret_registered_after_the_error_is_masked_when_shown():
    error = ConfigurationError("late-secret-abcdef in a message")
    redact.register("late-secret-abcdef")
    assert "late-secret-abcdef" not in str(error)


def test_a_pem_is_masked_whole_and_as_one_line():
    pem = "-----BEGIN PRIVATE KEY-----\n" + "A" * 64 + "\n" + "B" * 20 + "\n-----END PRIVATE KEY-----\n"
    redact.register(pem)
    one_line = "A" * 64 + "B" * 20
    assert one_line not in str(RegionHallandError(f"body {one_line} here"))
    assert "A" * 64 not in str(RegionHallandError(f"line {'A' * 64}"))


def test_oauth_error_description_echoing_the_assertion_is_redacted():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assertion = form(request)["client_assertion"]
        seen.append(assertion)
        # A server that quotes the assertion in its words, cut so no JWT pattern matches whole.
        return httpx.Response(
            400,
            json={
                "error": "invalid_client",
                "error_description": f"MSIS9622: bad assertion {assertion[5:]} ({CLIENT_ASSERTION_TYPE})",
            },
        )

    with pytest.raises(TokenError) as info:
        make_client(handler).tokens.get_token()
    assert seen
    for text in (str(info.value), info.value.error_description or ""):
        assert seen[0][5:] not in text
        assert seen[0] not in text
    assert "MSIS9622" in str(info.value)  # the server's words are kept, minus the secret


def test_api_body_echoing_the_authorization_header_and_subscriber_key_is_redacted():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/"):
            return token_response("opaque-token-0123456789")
        echoed = {k: v for k, v in request.headers.items()}
        return httpx.Response(500, text=f"upstream failed, request was {echoed!r}")

    with pytest.raises(ApiError) as info:
        make_client(handler).request("GET", "/units")
    for text in (str(info.value), info.value.body_excerpt):
        assert "opaque-token-0123456789" not in text
        assert SUBSCRIBER_KEY not in text
    assert "upstream failed" in str(info.value)


@pytest.mark.parametrize("token", ["good-token-value\n", "tok\r\nX-Injected: 1", "tok en", "tök"])
def test_an_access_token_that_is_no_valid_header_value_is_refused_without_echo(token):
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return token_response(token)

    with pytest.raises(TokenError) as info:
        make_client(handler).tokens.get_token()
    assert "access_token" in str(info.value)
    assert "cannot be sent in an Authorization header" in str(info.value)
    assert token.strip() not in str(info.value)
    assert calls == ["/adfs/oauth2/token/"]  # never sent on to the API


def test_transport_errors_carry_no_header_value():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/"):
            return token_response("opaque-token-abcdef")
        raise httpx.ReadError(f"connection reset after {request.headers['Authorization']}")

    with pytest.raises(TransportError) as info:
        make_client(handler).request("GET", "/units")
    assert "opaque-token-abcdef" not in str(info.value)
    printed = "".join(traceback.format_exception(info.value))  # what a task log shows
    assert "opaque-token-abcdef" not in printed
    assert "connection reset" in printed
