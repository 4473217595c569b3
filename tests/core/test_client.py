"""API calls: headers, same-origin rule, 401 renewal, retries and errors (edge cases on a seam)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from airflow_provider_rh.core.client import resolve_url
from airflow_provider_rh.exceptions import ApiError, ConfigurationError, UnsafeUrlError
from tests.core._seams import BASE_URL, Sleeps, make_client, token_response


class Api:
    """A tiny API + token endpoint with scripted API answers."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.tokens_issued = 0
        self.api_requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/"):
            self.tokens_issued += 1
            return token_response(f"tok-{self.tokens_issued}")
        self.api_requests.append(request)
        return self.answers.pop(0) if self.answers else httpx.Response(200, json={"ok": True})


def test_bearer_and_subscriber_key_on_every_call():
    api = Api()
    client = make_client(api)
    client.request("GET", "/units", params={"limit": 5})
    client.request("GET", "units/1")
    first, second = api.api_requests
    assert str(first.url) == f"{BASE_URL}/units?limit=5"
    assert str(second.url) == f"{BASE_URL}/units/1"
    for request in api.api_requests:
        assert request.headers["Authorization"] == "Bearer tok-1"
        assert request.headers["Ocp-Apim-Subscription-Key"] == "sub-key-123"
    assert api.tokens_issued == 1


def test_subscription_key_header_is_configurable():
    api = Api()
    make_client(api, subscription_key_header="X-Api-Key").request("GET", "/health")
    assert api.api_requests[0].headers["X-Api-Key"] == "sub-key-123"
    assert "Ocp-Apim-Subscription-Key" not in api.api_requests[0].headers


def test_401_renews_the_token_once():
    api = Api(httpx.Response(401), httpx.Response(200, json={"ok": 1}))
    client = make_client(api)
    assert client.request("GET", "/units").json() == {"ok": 1}
    assert [r.headers["Authorization"] for r in api.api_requests] == ["Bearer tok-1", "Bearer tok-2"]


def test_repeated_401_fails_with_advice():
    api = Api(httpx.Response(401, json={"statusCode": 401, "message": "Access denied"}), httpx.Response(401))
    with pytest.raises(ApiError, match="subscriber key") as info:
        make_client(api).request("GET", "/units")
    assert info.value.status_code == 401
    assert api.tokens_issued == 2
    assert "sub-key-123" not in str(info.value)


def test_429_honours_retry_after_with_floor_and_cap():
    sleeps = Sleeps()
    api = Api(
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(429, headers={"Retry-After": "100000"}),
        httpx.Response(200, json={}),
    )
    make_client(api, sleeps).request("GET", "/units")
    assert sleeps == [0.1, 120.0]


def test_5xx_retried_for_get_but_not_for_post():
    sleeps = Sleeps()
    api = Api(httpx.Response(502), httpx.Response(504), httpx.Response(200, json={}))
    make_client(api, sleeps).request("GET", "/units")
    assert len(api.api_requests) == 3
    assert len(sleeps) == 2

    api = Api(httpx.Response(500, text="boom"))
    with pytest.raises(ApiError, match="HTTP 500") as info:
        make_client(api).request("POST", "/units", json={"a": 1})
    assert len(api.api_requests) == 1
    assert info.value.body_excerpt == "boom"


def test_dropped_connection_is_retried_for_get():
    sleeps = Sleeps()
    answers = iter(["drop", "ok"])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/"):
            return token_response()
        if next(answers) == "drop":
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")
        return httpx.Response(200, json={"ok": True})

    assert make_client(handler, sleeps).request("GET", "/units").json() == {"ok": True}
    assert len(sleeps) == 1


def test_absolute_url_only_on_the_same_origin():
    api = Api()
    client = make_client(api)
    client.request("GET", f"{BASE_URL}/units?after=5")
    assert api.api_requests[0].headers["Authorization"].startswith("Bearer ")
    for url in (
        "https://evil.example.com/units",
        "http://api.example.se/hsainfo/v1/units",
        "https://api.example.se:8443/x",
    ):
        with pytest.raises(UnsafeUrlError, match="Refusing to send the token"):
            client.request("GET", url)
    assert len(api.api_requests) == 1


def test_resolve_url_without_host():
    with pytest.raises(ConfigurationError) as info:
        resolve_url(None, "/units")
    assert info.value.field == "host"


def test_async_request_shares_protocol_and_cache():
    api = Api(httpx.Response(401), httpx.Response(200, json={"n": 1}))
    client = make_client(api)

    async def run() -> dict[str, int]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(api)) as http:
            response = await client.arequest(http, "GET", "/units")
            return response.json()

    assert asyncio.run(run()) == {"n": 1}
    assert api.tokens_issued == 2
    assert client.tokens.get_token().value == "tok-2"  # the async path filled the shared cache
