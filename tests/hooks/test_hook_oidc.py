"""The hook against a standards-conformant OpenID Provider it was not written against.

oidc-provider (panva, OpenID-certified) runs on 127.0.0.1 with a private_key_jwt client whose
JWKS carries the certificate (``x5c``), client credentials, resource indicators and JWT access
tokens. The connection comes from an ``AIRFLOW_CONN_...`` JSON env var, as a user would set it.
"""

from __future__ import annotations

import json
import socket
import time
import uuid

import httpx
import pytest

from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.core.tokens import TokenCache
from airflow_provider_rh.exceptions import CertificateError, TokenError, TransportError
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from tests.pki import make_cert
from tests.resource_api import resource_api

HSAINFO = "https://hsainfo.example.se"
ANNAT = "https://annat.example.se"
SHORT = "https://short.example.se"
PASSPHRASE = "hook-test-passphrase"
FAST_RETRY = RetryPolicy(attempts=2, backoff_initial=0.01, backoff_max=0.02)


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    SHARED_TOKEN_CACHE.clear()
    yield
    SHARED_TOKEN_CACHE.clear()


def connection(oidc_server, *, host="http://127.0.0.1:9/api", **extra):
    values = {
        "auth_url": oidc_server.token_endpoint,
        "certificate": oidc_server.cert.cert_pem,
        "private_key": oidc_server.cert.key_pem(PASSPHRASE),
        "private_key_passphrase": PASSPHRASE,
        "resource": HSAINFO,
        "scopes": "hsainfoapi.read",
    }
    values.update(extra)
    return json.dumps(
        {
            "conn_type": "regionhalland",
            "host": host,
            "login": oidc_server.client_id,
            "password": "subscriber-key-for-tests",
            "extra": {k: v for k, v in values.items() if v is not None},
        }
    )


def settled(oidc_server) -> tuple[int, int]:
    """(tokens issued, token requests refused) so far, once every earlier request is logged.

    The server logs in order, so when the refusal of a marker request (an unknown client id) is
    read, so is everything before it: a count without a sleep. The marker adds one refusal.
    """
    marker = f"marker-{uuid.uuid4().hex}"
    httpx.post(
        oidc_server.token_endpoint,
        data={"grant_type": "client_credentials", "client_id": marker},
        timeout=60,  # a safety bound only
    )
    deadline = time.monotonic() + 60  # a safety bound only
    while not any(client == marker for _, client in oidc_server.token_errors()):
        assert time.monotonic() < deadline, "the server never logged the marker request"
        oidc_server.wait_for_token_errors(len(oidc_server.token_errors()) + 1)
    return len(oidc_server.token_events()), len(oidc_server.token_errors())


def no_requests_since(oidc_server, before: tuple[int, int]) -> bool:
    issued, refused = settled(oidc_server)
    return (issued, refused) == (before[0], before[1] + 1)


@pytest.fixture
def hook(oidc_server, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", connection(oidc_server))
    return RegionHallandHook(retry=FAST_RETRY)


def test_two_resources_give_two_tokens_with_the_right_audience(hook, oidc_server):
    before = len(oidc_server.token_events())
    default = hook.get_token()
    other = hook.get_token(resource=ANNAT, scopes="annatapi.read")
    assert default != other
    claims = oidc_server.verify_access_token(default, audience=HSAINFO)
    assert claims["client_id"] == oidc_server.client_id
    assert "hsainfoapi.read" in claims["scope"]
    assert oidc_server.verify_access_token(other, audience=ANNAT)["scope"] == "annatapi.read"
    events = oidc_server.wait_for_token_events(before + 2)
    assert events[before:] == [(oidc_server.client_id, HSAINFO), (oidc_server.client_id, ANNAT)]


def test_asking_again_within_the_lifetime_makes_no_request(hook, oidc_server):
    first = hook.get_token()
    before = settled(oidc_server)
    for _ in range(5):
        assert hook.get_token() == first
    assert RegionHallandHook(retry=FAST_RETRY).get_token() == first  # shared across hooks in a process
    assert no_requests_since(oidc_server, before)


class ManualClock:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_expired_token_is_renewed(hook, oidc_server):
    # The cache's clock is the test's: renewal is decided by the lifetime the server gave, never
    # by how long the requests took on a busy machine.
    clock = ManualClock()
    hook.tokens.cache = TokenCache(clock=clock)
    first = hook.get_token(resource=SHORT, scopes="short.read")  # the server issues 2 s tokens
    cached = hook.tokens.cache.get(hook.tokens.key(SHORT, "short.read"))
    assert cached is not None
    assert cached.value == first
    assert 0 < cached.expires_in <= 2  # the lifetime is the server's

    before = settled(oidc_server)
    clock.now = cached.renew_at - 0.001
    assert hook.get_token(resource=SHORT, scopes="short.read") == first  # still fresh
    assert no_requests_since(oidc_server, before)

    before = settled(oidc_server)
    clock.now = cached.renew_at
    second = hook.get_token(resource=SHORT, scopes="short.read")
    assert second != first
    assert hook.get_token(resource=SHORT, scopes="short.read") == second  # the new one is cached
    assert settled(oidc_server) == (before[0] + 1, before[1] + 1)  # exactly one token request
    # Not checked against the wall clock: on a busy machine the 2 s tokens may expire meanwhile.
    old = oidc_server.verify_access_token(first, audience=SHORT, verify_exp=False)
    new = oidc_server.verify_access_token(second, audience=SHORT, verify_exp=False)
    assert new["jti"] != old["jti"]
    assert new["iat"] >= old["iat"]


def test_issuer_discovery_instead_of_auth_url(oidc_server, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_REGIONHALLAND_DEFAULT",
        connection(oidc_server, auth_url=None, issuer=oidc_server.issuer),
    )
    hook = RegionHallandHook(retry=FAST_RETRY)
    assert hook.tokens.token_endpoint() == oidc_server.token_endpoint
    oidc_server.verify_access_token(hook.get_token(), audience=HSAINFO)


def test_unknown_resource_is_a_clear_token_error(hook):
    with pytest.raises(TokenError) as info:
        hook.get_token(resource="https://unknown.example.se")
    assert info.value.error == "invalid_target"
    assert "extra.resource" in str(info.value)


def test_unknown_client_id(oidc_server, monkeypatch):
    conn = json.loads(connection(oidc_server))
    conn["login"] = "00000000-0000-0000-0000-000000000000"
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", json.dumps(conn))
    with pytest.raises(TokenError) as info:
        RegionHallandHook(retry=FAST_RETRY).get_token()
    assert info.value.error == "invalid_client"
    assert "Client id (login)" in info.value.hint


def test_wrong_passphrase_and_mismatched_key_fail_before_any_request(oidc_server, monkeypatch):
    before = settled(oidc_server)
    monkeypatch.setenv(
        "AIRFLOW_CONN_REGIONHALLAND_DEFAULT",
        connection(oidc_server, private_key_passphrase="not-the-passphrase"),
    )
    with pytest.raises(CertificateError, match="passphrase") as info:
        RegionHallandHook(retry=FAST_RETRY).get_token()
    assert "not-the-passphrase" not in str(info.value)

    monkeypatch.setenv(
        "AIRFLOW_CONN_REGIONHALLAND_DEFAULT",
        connection(oidc_server, private_key=make_cert().key_pem(), private_key_passphrase=None),
    )
    with pytest.raises(CertificateError, match="does not belong"):
        RegionHallandHook(retry=FAST_RETRY).get_token()
    assert no_requests_since(oidc_server, before)


def test_unreachable_token_endpoint(oidc_server, monkeypatch):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv(
        "AIRFLOW_CONN_REGIONHALLAND_DEFAULT",
        connection(oidc_server, auth_url=f"http://127.0.0.1:{port}/token/"),
    )
    with pytest.raises(TransportError, match=f"Could not reach http://127.0.0.1:{port}/token/"):
        RegionHallandHook(retry=FAST_RETRY).get_token()


def test_request_sends_bearer_and_subscriber_key(oidc_server, monkeypatch):
    verify = lambda token: oidc_server.verify_access_token(token, audience=HSAINFO)  # noqa: E731
    with resource_api(verify, subscription_key="subscriber-key-for-tests") as base:
        monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", connection(oidc_server, host=base))
        hook = RegionHallandHook(retry=FAST_RETRY)
        body = hook.request("GET", "/units", params={"limit": 100}).json()
        assert body == {"path": "/api/units?limit=100", "client_id": oidc_server.client_id}
        ok, message = hook.test_connection()
        assert ok, message
        assert "token for resource 'https://hsainfo.example.se'" in message


def test_test_connection_names_the_failing_stage(oidc_server, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_REGIONHALLAND_DEFAULT", connection(oidc_server, resource="https://nope.example.se")
    )
    ok, message = RegionHallandHook(retry=FAST_RETRY).test_connection()
    assert not ok
    assert message.startswith("token check failed")
    assert "invalid_target" in message

    monkeypatch.setenv(
        "AIRFLOW_CONN_REGIONHALLAND_DEFAULT", connection(oidc_server, private_key_passphrase="wrong")
    )
    ok, message = RegionHallandHook(retry=FAST_RETRY).test_connection()
    assert not ok
    assert message.startswith("certificate check failed")


def test_secrets_are_registered_with_the_masker(hook, oidc_server):
    import os

    from airflow.sdk._shared.secrets_masker import redact

    token = hook.get_token()
    assert redact(token) == "***"
    assert redact("subscriber-key-for-tests") == "***"
    assert redact(PASSPHRASE) == "***"
    private_key = json.loads(os.environ["AIRFLOW_CONN_REGIONHALLAND_DEFAULT"])["extra"]["private_key"]
    assert redact(private_key) == "***"
    body = "".join(line for line in private_key.splitlines() if not line.startswith("-----"))
    assert body not in str(redact(f"key body printed on one line: {body}"))


def test_async_request_gets_its_own_token_and_shares_the_cache(oidc_server, monkeypatch):
    import asyncio

    verify = lambda token: oidc_server.verify_access_token(token, audience=HSAINFO)  # noqa: E731
    with resource_api(verify, subscription_key="subscriber-key-for-tests") as base:
        monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", connection(oidc_server, host=base))
        hook = RegionHallandHook(retry=FAST_RETRY)
        hook.config  # noqa: B018 - load the connection outside the event loop, as a trigger does
        response = asyncio.run(hook.arequest("GET", "/units/1"))
        assert response.json()["path"] == "/api/units/1"
        before = settled(oidc_server)
        assert hook.request("GET", "/units/2").status_code == 200  # sync call reuses the async token
        assert no_requests_since(oidc_server, before)
