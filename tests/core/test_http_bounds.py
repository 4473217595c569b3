"""Each HTTP attempt has a total deadline and each response a size cap (issue 8, class 4).

Against a real loopback server that trickles or floods; short timeouts; the assertions are on
the error class and message, never on how long anything took.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_rh.core import client as client_module
from airflow_provider_rh.core.client import ApiClient
from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.credentials import load_credentials
from airflow_provider_rh.core.http import MAX_TOKEN_RESPONSE_BYTES, make_async_client, make_client
from airflow_provider_rh.core.oauth import TokenProvider
from airflow_provider_rh.core.tokens import TokenCache
from airflow_provider_rh.exceptions import PayloadTooLargeError, TransportError
from tests.core._seams import CERT, Sleeps, policy
from tests.slow_server import (
    SlowServer,
    chunked,
    declared_size,
    gzip_bomb,
    json_body,
    trickle_body,
    trickle_headers,
)

TIMEOUT = 0.5  # the attempt under test
GENEROUS = 60.0  # everything else (the token a test needs first), so a busy machine changes nothing
TOKEN = {"access_token": "fast-token-123", "token_type": "Bearer", "expires_in": 3600}


def api_client(server: SlowServer, *, attempts: int = 1, timeout: float = GENEROUS) -> ApiClient:
    cfg = ClientConfig.from_connection_fields(
        host=f"{server.url}/api",
        login="client-guid",
        password="sub-key-123",
        extra={"auth_url": f"{server.url}/token", "resource": "r", "timeout": timeout},
    )
    tokens = TokenProvider(
        cfg,
        http=make_client(cfg),
        cache=TokenCache(),
        retry=policy(Sleeps(), attempts=attempts),
        credentials=load_credentials(certificate=CERT.cert_pem, private_key=CERT.key_pem()),
    )
    return ApiClient(cfg, tokens=tokens)


@pytest.fixture
def serve() -> Iterator[object]:
    servers: list[object] = []

    def start(routes: dict[str, object]) -> SlowServer:
        server = SlowServer(routes)  # type: ignore[arg-type]
        context = server.running()
        context.__enter__()
        servers.append(context)
        return server

    yield start
    for context in servers:
        context.__exit__(None, None, None)  # type: ignore[attr-defined]


def assert_timeout(error: TransportError) -> None:
    message = str(error)
    assert "timed out" in message
    assert f"no complete answer within {TIMEOUT:g} s" in message
    assert "Timeout (seconds) (extra.timeout)" in message


@pytest.mark.parametrize("behaviour", [trickle_body, trickle_headers], ids=["body", "headers"])
def test_a_trickling_token_endpoint_fails_at_the_deadline(serve, behaviour):
    server = serve({"/token": behaviour})
    client = api_client(server, timeout=TIMEOUT)
    with pytest.raises(TransportError) as info:
        client.tokens.get_token()
    assert_timeout(info.value)


@pytest.mark.parametrize("behaviour", [trickle_body, trickle_headers], ids=["body", "headers"])
def test_a_trickling_api_fails_at_the_deadline(serve, behaviour):
    server = serve({"/token": json_body(TOKEN), "/api/units": behaviour})
    with pytest.raises(TransportError) as info:
        api_client(server).request("GET", "/units", timeout=TIMEOUT)
    assert_timeout(info.value)


def test_each_retry_gets_its_own_deadline(serve):
    server = serve({"/token": json_body(TOKEN), "/api/units": trickle_body})
    with pytest.raises(TransportError):
        api_client(server, attempts=3).request("GET", "/units", timeout=TIMEOUT)
    assert server.connections["/api/units"] == 3


@pytest.mark.parametrize("own_client", [False, True], ids=["our-client", "plain-httpx-client"])
@pytest.mark.parametrize("behaviour", [trickle_body, trickle_headers], ids=["body", "headers"])
def test_the_async_path_has_the_same_deadline(serve, behaviour, own_client):
    server = serve({"/token": json_body(TOKEN), "/api/units": behaviour})
    client = api_client(server)

    async def call() -> None:
        # A trigger may bring its own plain httpx.AsyncClient: it is bounded all the same.
        http = httpx.AsyncClient() if own_client else make_async_client(client.config)
        async with http:
            await client.arequest(http, "GET", "/units", timeout=TIMEOUT)

    with pytest.raises(TransportError) as info:
        asyncio.run(call())
    assert_timeout(info.value)


def test_the_async_token_request_has_the_deadline(serve):
    server = serve({"/token": trickle_body})
    client = api_client(server, timeout=TIMEOUT)

    async def call() -> None:
        async with make_async_client(client.config) as http:
            await client.tokens.aget_token(http)

    with pytest.raises(TransportError) as info:
        asyncio.run(call())
    assert_timeout(info.value)


@pytest.mark.parametrize(
    "behaviour",
    [declared_size(5 * MAX_TOKEN_RESPONSE_BYTES), chunked(3 * MAX_TOKEN_RESPONSE_BYTES)],
    ids=["declared", "chunked"],
)
def test_a_huge_token_response_is_refused(serve, behaviour):
    server = serve({"/token": behaviour})
    with pytest.raises(PayloadTooLargeError) as info:
        api_client(server).tokens.get_token()
    assert info.value.limit == MAX_TOKEN_RESPONSE_BYTES
    assert f"more than {MAX_TOKEN_RESPONSE_BYTES} bytes" in str(info.value)
    assert "Token endpoint URL (extra.auth_url)" in str(info.value)


@pytest.mark.parametrize(
    "behaviour",
    [declared_size(200_000), chunked(200_000), gzip_bomb(500_000)],
    ids=["declared", "chunked", "gzip"],
)
def test_an_api_response_over_the_cap_is_refused(serve, behaviour, monkeypatch):
    monkeypatch.setattr(client_module, "MAX_API_RESPONSE_BYTES", 100_000)
    server = serve({"/token": json_body(TOKEN), "/api/units": behaviour})
    with pytest.raises(PayloadTooLargeError) as info:
        api_client(server, attempts=3).request("GET", "/units")
    assert info.value.limit == 100_000
    assert "ask for smaller pages" in str(info.value)
    assert server.connections["/api/units"] == 1  # not retried: it would only come back as big


def test_the_async_path_has_the_size_cap(serve, monkeypatch):
    monkeypatch.setattr(client_module, "MAX_API_RESPONSE_BYTES", 100_000)
    server = serve({"/token": json_body(TOKEN), "/api/units": chunked(200_000)})
    client = api_client(server)

    async def call() -> None:
        async with make_async_client(client.config) as http:
            await client.arequest(http, "GET", "/units")

    with pytest.raises(PayloadTooLargeError):
        asyncio.run(call())


def test_a_normal_response_within_the_bounds_is_read_whole(serve):
    server = serve({"/token": json_body(TOKEN), "/api/units": json_body({"items": list(range(1000))})})
    response = api_client(server).request("GET", "/units")
    assert response.json() == {"items": list(range(1000))}
    assert response.request.headers["Authorization"] == "Bearer fast-token-123"
