"""Server text is parsed in bounded, linear work and refused in short messages that say what.

Issue 14 class 2 (Link headers, next links, records paths, error bodies) and issue 19's
neighbours in the same code: a query in ``path`` (19.1), diagnostics that blamed the wrong
thing (19.6) and header values that can never be sent (19.8).
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from airflow_provider_rh.core.client import MAX_URL_CHARS, merge_query
from airflow_provider_rh.core.credentials import load_credentials
from airflow_provider_rh.core.hints import CLOCK_HINT, MSIS_HINTS, hint_for
from airflow_provider_rh.core.http import make_client as make_http_client
from airflow_provider_rh.core.oauth import TokenProvider
from airflow_provider_rh.core.retry import parse_retry_after
from airflow_provider_rh.core.tokens import TokenCache
from airflow_provider_rh.exceptions import (
    ApiError,
    ConfigurationError,
    PaginationError,
    TokenError,
    TransportError,
)
from airflow_provider_rh.pagination import (
    CursorPagination,
    LinkHeaderPagination,
    NextLinkPagination,
    Pager,
    PageRequest,
    lookup,
)
from airflow_provider_rh.pagination._follow import MAX_LINK_HEADER_CHARS
from tests.core._seams import CERT, TOKEN_URL, Sleeps, make_client, make_config, policy, token_response
from tests.slow_server import SlowServer

BASE = "https://api.example.se/hsainfo/v1"


# -- 19.1: a query written into the path survives query parameters ---------------------------
def recording(seen: list[httpx.URL], body: object = None) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/"):
            return token_response()
        seen.append(request.url)
        return httpx.Response(200, json=body if body is not None else {"items": []})

    return handler


@pytest.mark.parametrize("params", [{}, {"limit": 5}, None])
def test_a_filter_in_the_path_arrives_with_the_query_parameters(params):
    seen: list[httpx.URL] = []
    make_client(recording(seen)).request("GET", "/units?status=active", params=params)
    assert seen[0].params["status"] == "active"
    if params:
        assert seen[0].params["limit"] == "5"
    assert str(seen[0]).index("status=") < str(seen[0]).rfind("?") + 2  # the path's query first


def test_a_filter_in_the_path_reaches_every_page_of_a_pull():
    seen: list[httpx.URL] = []
    pages = {0: {"items": [1], "cursor": "c1"}, 1: {"items": [2], "cursor": None}}
    client = make_client(lambda request: recording(seen, pages[len(seen)])(request))

    def fetch(request: PageRequest) -> httpx.Response:
        return client.request("GET", request.url, params=request.params)

    pager = Pager(CursorPagination("cursor"), fetch, records_path="items")
    records = [r for page in pager.pages("/units?status=active", {"limit": 1}) for r in page.records]
    assert records == [1, 2]
    assert [url.params.get("status") for url in seen] == ["active", "active"]
    assert seen[1].params["cursor"] == "c1"


def test_a_parameter_in_both_places_is_refused_naming_both():
    seen: list[httpx.URL] = []
    with pytest.raises(ConfigurationError) as info:
        make_client(recording(seen)).request("GET", "/units?status=active", params={"status": "all"})
    assert "'status' is both in the path ('/hsainfo/v1/units?status=active')" in str(info.value)
    assert "query parameters (params / query_params)" in str(info.value)
    assert seen == []


def test_list_values_and_repeated_keys_are_kept():
    url, params = merge_query(f"{BASE}/units?tag=a&x=%20&tag=b", {"id": [1, 2], "flag": True})
    assert params is None
    assert url == f"{BASE}/units?tag=a&x=%20&tag=b&id=1&id=2&flag=true"  # the path's query as written


# -- 19.8: a header that can never be sent is refused before any attempt ---------------------
@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("a\r\nX-Evil: 1", "a line break"),
        ("caf\u00e9", "a non-ASCII character"),
        ("a\x00b", "a control character"),
    ],
)
def test_an_unsendable_header_value_is_refused_at_once(value, kind):
    seen: list[httpx.URL] = []
    sleeps = Sleeps()
    with pytest.raises(ConfigurationError) as info:
        make_client(recording(seen), sleeps).request("GET", "/units", headers={"X-Trace": value})
    assert info.value.field == "headers"
    assert "'X-Trace'" in str(info.value)
    assert kind in str(info.value)
    assert value not in str(info.value)
    assert seen == []  # not sent ...
    assert sleeps == []  # ... and not retried


def test_a_subscriber_key_that_cannot_be_sent_is_refused_naming_the_field():
    seen: list[httpx.URL] = []
    client = make_client(recording(seen))
    client.config = dataclasses.replace(client.config, subscription_key="s\u00e4kret-key")
    with pytest.raises(ConfigurationError) as info:
        client.request("GET", "/units")
    assert "Subscriber key (password)" in str(info.value)
    assert "s\u00e4kret" not in str(info.value)
    assert seen == []


# -- 19.6: diagnostics name the real cause ---------------------------------------------------
def test_an_oauth_error_in_a_200_is_reported_as_that_error():
    body = {"error": "invalid_client", "error_description": "MSIS9622: Client authentication failed."}
    client = make_client(lambda request: httpx.Response(200, json=body))
    with pytest.raises(TokenError) as info:
        client.tokens.get_token()
    assert info.value.error == "invalid_client"
    assert "MSIS9622" in str(info.value)
    assert "access_token is missing" not in str(info.value)
    assert info.value.hint == MSIS_HINTS["MSIS9622"]


def test_a_forwarding_proxys_407_is_blamed_on_the_proxy():
    client = make_client(lambda request: httpx.Response(407, headers={"Proxy-Authenticate": "Basic"}))
    with pytest.raises(TokenError) as info:
        client.tokens.get_token()
    message = str(info.value)
    assert message.startswith("The proxy (Proxy URL (extra.proxy)) refused to forward the token request")
    assert "refused the token request" not in message


def test_a_407_on_an_api_call_is_blamed_on_the_proxy():
    def handler(request: httpx.Request) -> httpx.Response:
        return token_response() if request.url.path.endswith("/token/") else httpx.Response(407)

    with pytest.raises(ApiError) as info:
        make_client(handler).request("GET", "/units")
    assert "The proxy (Proxy URL (extra.proxy)) refused to forward the call" in str(info.value)


def proxied_tokens(proxy: str) -> TokenProvider:
    cfg = make_config(proxy=proxy)
    return TokenProvider(
        cfg,
        http=make_http_client(cfg),
        cache=TokenCache(),
        retry=policy(Sleeps(), attempts=1),
        credentials=load_credentials(certificate=CERT.cert_pem, private_key=CERT.key_pem()),
    )


def test_an_unreachable_proxy_is_named_not_the_token_url():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransportError) as info:
        proxied_tokens(f"http://127.0.0.1:{port}").get_token()
    message = str(info.value)
    assert f"the proxy http://127.0.0.1:{port} (Proxy URL (extra.proxy)) could not be reached" in message
    assert message.startswith(f"Could not reach {TOKEN_URL}")


def refusing_tunnel(conn: socket.socket, stop: object) -> None:
    conn.sendall(
        b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=x\r\n"
        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    )


def test_a_proxy_refusing_the_tunnel_with_407_is_named_as_the_proxy():
    # The CONNECT line's target is what the loopback server routes on.
    server = SlowServer({"adfs.example.se:443": refusing_tunnel})
    with server.running(), pytest.raises(TransportError) as info:
        proxied_tokens(server.url).get_token()
    message = str(info.value)
    assert f"the proxy {server.url} (Proxy URL (extra.proxy)) refused to open a tunnel (407" in message
    assert "wants credentials, which this provider does not send" in message


@pytest.mark.parametrize(
    ("error", "description"),
    [
        ("invalid_client", "AADSTS700024: Client assertion is not within its valid time range."),
        ("invalid_grant", "IDX10223: Lifetime validation failed. The token is expired."),
        ("invalid_grant", "IDX10222: Lifetime validation failed. The token is not yet valid."),
        ("invalid_client", "MSIS9622: Client authentication failed: the assertion has expired."),
        (None, "The JWT nbf claim is in the future."),
    ],
)
def test_a_refusal_about_the_assertions_times_gets_the_clock_hint(error, description):
    assert hint_for(error, description) == CLOCK_HINT
    assert "check this host's clock (NTP)" in CLOCK_HINT


@pytest.mark.parametrize(
    ("error", "description", "expected"),
    [
        ("invalid_client", "MSIS9622: Client authentication failed.", MSIS_HINTS["MSIS9622"]),
        ("invalid_client", "The certificate has expired.", None),  # a certificate, not the clock
        ("invalid_scope", "Scope 'x' is unknown.", None),
    ],
)
def test_other_refusals_keep_their_own_hint(error, description, expected):
    hint = hint_for(error, description)
    assert hint != CLOCK_HINT
    if expected is not None:
        assert hint == expected


def test_the_clock_hint_reaches_the_token_error():
    body = {"error": "invalid_grant", "error_description": "AADSTS700024: Client assertion is not within "}
    client = make_client(lambda request: httpx.Response(400, json=body))
    with pytest.raises(TokenError) as info:
        client.tokens.get_token()
    assert "check this host's clock (NTP)" in str(info.value)


def test_a_huge_content_type_is_not_echoed_whole():
    client = make_client(lambda request: httpx.Response(400, headers={"Content-Type": "x" * 50_000}))
    with pytest.raises(TokenError) as info:
        client.tokens.get_token()
    assert len(str(info.value)) < 1000


# -- 14.2: Link headers, next links, records paths ---------------------------------------------
def one_page(headers: dict[str, str], body: object) -> Callable[[PageRequest], httpx.Response]:
    def fetch(request: PageRequest) -> httpx.Response:
        url = request.url if "://" in request.url else f"{BASE}{request.url}"
        return httpx.Response(200, headers=headers, json=body, request=httpx.Request("GET", url))

    return fetch


def test_an_overlong_link_header_is_refused_in_a_short_message():
    header = "<" + "https://api.example.se/hsainfo/v1/units?" + "a" * 91_950 + '>; rel="next"'
    pager = Pager(LinkHeaderPagination(), one_page({"Link": header}, [1]))
    with pytest.raises(PaginationError) as info:
        list(pager.pages("/units"))
    message = str(info.value)
    expected = f"the Link header is {len(header):,} characters; at most {MAX_LINK_HEADER_CHARS:,} are read"
    assert expected in message
    assert message.startswith("Page 1: ")
    assert len(message) < 300


def test_an_overlong_next_link_is_refused_as_too_long_not_as_off_host():
    link = f"{BASE}/units?after=" + "9" * 100_000
    fetch = one_page({}, {"items": [1], "next": link})
    pager = Pager(NextLinkPagination("next"), fetch, records_path="items")
    with pytest.raises(PaginationError) as info:
        list(pager.pages("/units"))
    message = str(info.value)
    expected = f"next link at 'next' is {len(link):,} characters; at most {MAX_URL_CHARS:,} are followed"
    assert expected in message
    assert "off the API's host" not in message
    assert len(message) < 400


def test_a_page_with_a_million_keys_is_described_in_a_few():
    body = {f"key{n}": n for n in range(1_000_000)}
    pager = Pager(NextLinkPagination("next"), one_page({}, body), records_path="items")
    with pytest.raises(PaginationError) as info:
        list(pager.pages("/units"))
    assert "and 999,980 more" in str(info.value)
    assert len(str(info.value)) < 1000


def test_a_records_path_walk_is_polynomial_on_a_crafted_page():
    # Every prefix "a", "a.a", ... is a key at every level, and the path's last key is nowhere:
    # without memory of dead ends the walk tries 2**segments readings.
    segments = 40
    node: dict[str, Any] = {}
    for _ in range(segments):
        node = {".".join(["a"] * size): node for size in range(1, segments + 1)}
    calls = 0
    original = dict.__contains__

    class Counting(dict):  # type: ignore[type-arg]
        def __contains__(self, key: object) -> bool:
            nonlocal calls
            calls += 1
            return original(self, key)

    made: dict[int, Counting] = {}

    def counting(value: Any) -> Any:  # shares children as the original does
        if not isinstance(value, dict):
            return value
        if id(value) not in made:
            made[id(value)] = Counting({k: counting(v) for k, v in value.items()})
        return made[id(value)]

    document = counting(node)
    assert lookup(document, ".".join(["a"] * segments) + ".missing") == (False, None)
    assert calls < 100_000


def test_an_overlong_retry_after_is_ignored_not_parsed():
    assert parse_retry_after("1" * 10_000) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT" + " " * 100) is None
    assert parse_retry_after(" 7 ") == 7.0


def huge_headers(conn: socket.socket, stop: object) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n{}"
    try:
        conn.sendall(head)
    except OSError:
        return


def test_response_headers_beyond_httpcores_limit_are_a_short_transport_error():
    server = SlowServer({"/token": huge_headers})
    with server.running():
        cfg = make_config(auth_url=f"{server.url}/token")
        tokens = TokenProvider(
            cfg,
            http=make_http_client(cfg),
            cache=TokenCache(),
            retry=policy(Sleeps(), attempts=1),
            credentials=load_credentials(certificate=CERT.cert_pem, private_key=CERT.key_pem()),
        )
        with pytest.raises(TransportError) as info:
            tokens.get_token()
    assert len(str(info.value)) < 600
    assert "aaaa" not in str(info.value)
