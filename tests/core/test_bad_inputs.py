"""Every bad connection value is refused with its field named as the form labels it, and what to do.

One case per test (parametrized); each asserts the error class, the field, the form's words and
the advice, and that no secret value is repeated.
"""

from __future__ import annotations

import json
import warnings

import httpx
import pytest

from airflow_provider_rh.core.client import resolve_url
from airflow_provider_rh.core.config import ClientConfig, DeprecatedFieldWarning
from airflow_provider_rh.exceptions import ConfigurationError, UnsafeUrlError
from tests.core._seams import make_client

TOKEN = "https://adfs.example.se/adfs/oauth2/token/"
HOST = "https://api.example.se/hsainfo/v1"


def parse(extra: object = None, **fields: object) -> ClientConfig:
    values: dict[str, object] = {"host": HOST, "login": "client-guid", "password": "sub-key-123"}
    values.update(fields)
    if extra is None:
        extra = {"auth_url": TOKEN}
    return ClientConfig.from_connection_fields(extra=extra, **values)  # type: ignore[arg-type]


def with_auth(**extra: object) -> dict[str, object]:
    return {"auth_url": TOKEN, **extra}


# (connection fields, field, the form's words, advice) -----------------------------------------
URL_CASES = [
    pytest.param(
        {"host": "https://user:pw-secret@api.example.se/v1"},
        "host",
        "API base URL (host)",
        "remove them",
        id="host-userinfo",
    ),
    pytest.param(
        {"host": "http://api.example.se/v1"},
        "host",
        "API base URL (host)",
        "allow_insecure_http",
        id="host-plain-http",
    ),
    pytest.param(
        {"extra": {"auth_url": "https://u:pw-secret@adfs.example.se/adfs/oauth2/token/"}},
        "auth_url",
        "Token endpoint URL (extra.auth_url)",
        "remove them",
        id="auth_url-userinfo",
    ),
    pytest.param(
        {"extra": {"auth_url": "http://adfs.example.se/adfs/oauth2/token/"}},
        "auth_url",
        "Token endpoint URL (extra.auth_url)",
        "use https://",
        id="auth_url-plain-http",
    ),
    pytest.param(
        {"extra": {"auth_url": "ftp://adfs.example.se/token"}},
        "auth_url",
        "Token endpoint URL (extra.auth_url)",
        "https:// URL",
        id="auth_url-scheme",
    ),
    pytest.param(
        {"extra": {"issuer": "https://u:pw-secret@adfs.example.se/adfs"}},
        "issuer",
        "Issuer / discovery URL (extra.issuer)",
        "remove them",
        id="issuer-userinfo",
    ),
    pytest.param(
        {"extra": {"issuer": "http://adfs.example.se/adfs"}},
        "issuer",
        "Issuer / discovery URL (extra.issuer)",
        "use https://",
        id="issuer-plain-http",
    ),
    pytest.param(
        {"extra": with_auth(proxy="http://u:pw-secret@proxy.example.se:8080")},
        "proxy",
        "Proxy URL (extra.proxy)",
        "remove them",
        id="proxy-userinfo",
    ),
    pytest.param(
        {"extra": with_auth(auth_url="https://adfs.example.se:99999/token")},
        "auth_url",
        "Token endpoint URL (extra.auth_url)",
        "check the host and port",
        id="auth_url-bad-port",
    ),
    pytest.param(
        {"extra": {"auth_url": "https://adfs.example.se/adfs/oauth2/token/\nX-Evil: 1"}},
        "auth_url",
        "Token endpoint URL (extra.auth_url)",
        "remove them",
        id="auth_url-line-break",
    ),
    pytest.param(
        {"host": "https://api.example.se/hsa info"},
        "host",
        "API base URL (host)",
        "spaces",
        id="host-space",
    ),
]

VALUE_CASES = [
    pytest.param(
        {"extra": with_auth(certificate="A" * (2 * 1024 * 1024))},
        "certificate",
        "Certificate (PEM) (extra.certificate)",
        "check you pasted the right thing",
        id="field-absurdly-long",
    ),
    pytest.param(
        {"password": "k" * (2 * 1024 * 1024)},
        "password",
        "Subscriber key (password)",
        "check what was pasted",
        id="subscriber-key-absurdly-long",
    ),
    pytest.param(
        {"extra": "[" * 100_000 + "]" * 100_000},
        "extra",
        "Extra (extra)",
        "one flat JSON object",
        id="extra-nested-too-deep",
    ),
    pytest.param({"login": ""}, "login", "Client id (login)", "client id (a GUID)", id="login-empty"),
    pytest.param(
        {"extra": {"resource": "x"}},
        "auth_url",
        "Token endpoint URL (extra.auth_url)",
        "/adfs/oauth2/token/",
        id="no-token-endpoint",
    ),
    pytest.param(
        {"extra": with_auth(timeout="fast")},
        "timeout",
        "Timeout (seconds) (extra.timeout)",
        "number of seconds",
        id="timeout-text",
    ),
    pytest.param(
        {"extra": with_auth(timeout="NaN")},
        "timeout",
        "Timeout (seconds) (extra.timeout)",
        "more than 0",
        id="timeout-nan",
    ),
    pytest.param(
        {"extra": with_auth(timeout="inf")},
        "timeout",
        "Timeout (seconds) (extra.timeout)",
        "at most",
        id="timeout-inf",
    ),
    pytest.param(
        {"extra": with_auth(timeout=-1)},
        "timeout",
        "Timeout (seconds) (extra.timeout)",
        "more than 0",
        id="timeout-negative",
    ),
    pytest.param(
        {"extra": with_auth(timeout=10**400)},
        "timeout",
        "Timeout (seconds) (extra.timeout)",
        "number of seconds",
        id="timeout-huge-int",
    ),
    pytest.param(
        {"extra": with_auth(verify="/nonexistent/ca.pem")},
        "verify",
        "Verify TLS (extra.verify)",
        "path of a CA bundle",
        id="verify-missing-file",
    ),
    pytest.param(
        {"extra": with_auth(allow_insecure_http="perhaps")},
        "allow_insecure_http",
        "Allow plain HTTP",
        "true or false",
        id="allow_insecure_http-not-a-flag",
    ),
    pytest.param(
        {"extra": with_auth(assertion_header="x5c")},
        "assertion_header",
        "(extra.assertion_header)",
        "x5t",
        id="assertion_header-unknown",
    ),
    pytest.param(
        {"extra": with_auth(subscription_key_header="Bad Header:")},
        "subscription_key_header",
        "Subscriber key header (extra.subscription_key_header)",
        "HTTP header name",
        id="subscription_key_header-invalid",
    ),
    pytest.param(
        {"password": "key-with\nlinebreak-zz"},
        "password",
        "Subscriber key (password)",
        "paste the key again",
        id="subscriber-key-newline",
    ),
    pytest.param(
        {"extra": with_auth(scope="typo")}, "scope", "Unknown connection extra", "scopes", id="unknown-extra"
    ),
    pytest.param(
        {"extra": '{"auth_url": "https://adfs.example.se/t/", }'},
        "extra",
        "Extra (extra)",
        "not valid JSON",
        id="extra-invalid-json",
    ),
    pytest.param({"extra": '["auth_url"]'}, "extra", "Extra (extra)", "JSON object", id="extra-not-object"),
    pytest.param(
        {"extra": {"auth_url": TOKEN, "token_url": TOKEN}},
        "auth_url",
        "Token endpoint URL (extra.auth_url)",
        "keep only auth_url",
        id="both-names",
    ),
]


@pytest.mark.parametrize(("fields", "field", "words", "advice"), URL_CASES + VALUE_CASES)
def test_bad_value_is_named_in_the_forms_words(fields, field, words, advice):
    fields = dict(fields)
    extra = fields.pop("extra", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecatedFieldWarning)
        with pytest.raises(ConfigurationError) as info:
            parse(extra, **fields)
    message = str(info.value)
    assert info.value.field == field
    assert words in message
    assert advice in message
    assert "pw-secret" not in message
    assert "linebreak-zz" not in message  # the subscriber key is never echoed


def test_invalid_json_is_not_reported_as_a_missing_token_endpoint():
    raw = json.dumps({"auth_url": TOKEN, "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA"})[:-1]
    with pytest.raises(ConfigurationError, match="not valid JSON") as info:
        parse(raw)
    assert "line 1, column" in str(info.value) or "line 1" in str(info.value)
    assert "BEGIN PRIVATE KEY" not in str(info.value)


def test_extra_as_json_text_is_read():
    assert parse(json.dumps({"auth_url": TOKEN, "timeout": "5"})).timeout == 5.0


def test_verify_pointing_at_a_file_that_is_not_a_ca_bundle(tmp_path):
    not_a_bundle = tmp_path / "notes.txt"
    not_a_bundle.write_text("just some text, not a certificate\n")
    with pytest.raises(ConfigurationError) as info:
        parse(with_auth(verify=str(not_a_bundle)))
    assert info.value.field == "verify"
    assert "Verify TLS (extra.verify)" in str(info.value)
    assert "not a CA bundle" in str(info.value)
    assert "PEM file holding the CA certificate" in str(info.value)


def test_old_token_url_still_works_with_a_warning_that_says_to_rename_it():
    with pytest.warns(DeprecatedFieldWarning, match=r"rename it to 'auth_url'"):
        cfg = parse({"token_url": TOKEN})
    assert cfg.auth_url == TOKEN
    with pytest.warns(DeprecatedFieldWarning):
        cfg = parse({"extra__regionhalland__token_url": TOKEN})
    assert cfg.auth_url == TOKEN


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765/adfs/oauth2/token/",
        "http://localhost:1/t",
        "http://[::1]:8080/t",
        "http://127.5.6.7/t",
    ],
)
def test_plain_http_to_loopback_is_allowed(url):
    assert parse({"auth_url": url}).auth_url == url


def test_plain_http_elsewhere_only_with_the_opt_in():
    cfg = parse(
        {"auth_url": "http://adfs.test.example/token", "allow_insecure_http": "true"},
        host="http://api.test.example/v1",
    )
    assert cfg.allow_insecure_http is True
    assert cfg.base_url == "http://api.test.example/v1"


def test_a_plain_http_proxy_is_fine_credentials_in_it_are_not():
    assert parse(with_auth(proxy="http://proxy.example.se:8080")).proxy == "http://proxy.example.se:8080"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://user:pw-secret@api.example.se/hsainfo/v1/units?page=2", "credentials"),
        ("https://api.example.se@evil.example/hsainfo/v1/units", "credentials"),
        ("http://api.example.se/hsainfo/v1/units", "only https://api.example.se/hsainfo/v1"),
        ("https://evil.example/hsainfo/v1/units", "API base URL (host)"),
        ("https://api.example.se:8443/hsainfo/v1/units", "same scheme, host and port"),
    ],
)
def test_next_links_and_absolute_urls_are_refused(url, words):
    with pytest.raises(UnsafeUrlError) as info:
        resolve_url(HOST, url)
    assert words in str(info.value)
    assert "pw-secret" not in str(info.value)
    assert "pw-secret" not in info.value.url


@pytest.mark.parametrize(
    ("endpoint", "words"),
    [
        ("https://u:pw-secret@adfs.example.se/adfs/oauth2/token/", "credentials"),
        ("http://adfs.example.se/adfs/oauth2/token/", "plain http://"),
    ],
)
def test_a_discovered_token_endpoint_follows_the_same_rules(endpoint, words):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("openid-configuration"):
            return httpx.Response(200, json={"token_endpoint": endpoint})
        raise AssertionError(f"nothing else may be called, got {request.url}")

    client = make_client(handler, auth_url=None, issuer="https://adfs.example.se/adfs")
    with pytest.raises(UnsafeUrlError) as info:
        client.tokens.get_token()
    assert words in str(info.value)
    assert "Issuer / discovery URL (extra.issuer)" in str(info.value)
    assert "pw-secret" not in str(info.value)


def test_a_certificate_path_that_is_not_a_regular_file_is_refused():
    from airflow_provider_rh.core.credentials import load_credentials
    from airflow_provider_rh.exceptions import CertificateError

    with pytest.raises(CertificateError) as info:
        load_credentials(certificate_path="/dev/zero")  # would never end if read whole
    assert "Certificate file path (extra.certificate_path)" in str(info.value)
    assert "not a regular file" in str(info.value)


def test_a_huge_certificate_file_is_refused(tmp_path):
    from airflow_provider_rh.core.credentials import MAX_CREDENTIAL_FILE_BYTES, load_credentials
    from airflow_provider_rh.exceptions import CertificateError

    big = tmp_path / "big.pem"
    big.write_bytes(b"-----BEGIN CERTIFICATE-----\n" + b"A" * (MAX_CREDENTIAL_FILE_BYTES + 10))
    with pytest.raises(CertificateError, match="larger than"):
        load_credentials(certificate_path=big)


@pytest.mark.parametrize("body", ["[" * 100_000, '{"access_token": ' + "[" * 100_000])
def test_a_token_response_nested_too_deep_is_a_token_error(body):
    from airflow_provider_rh.exceptions import TokenError

    client = make_client(lambda request: httpx.Response(200, content=body.encode()))
    with pytest.raises(TokenError, match="not with JSON"):
        client.tokens.get_token()


def test_a_url_httpx_cannot_use_is_refused_not_crashed():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": "t", "expires_in": 60})

    # Refused before httpx sees it, by its length, in a short message that does not echo it.
    with pytest.raises(UnsafeUrlError, match="Refusing a URL of 70,038 characters; at most 8,192") as info:
        make_client(handler).request("GET", "https://api.example.se:0/hsainfo/v1/" + "a" * 70000 + "/x")
    assert len(str(info.value)) < 400
