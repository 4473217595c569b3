"""Compressed bodies are decoded in bounded steps: memory stays near the cap (issue 14, class 1).

A small body that inflates a thousandfold, once or stacked (``gzip, gzip``, gzip over deflate),
comes from a real loopback server; tracemalloc measures the peak while the client reads it. The
assertions are on bytes, never on time.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from airflow_provider_rh.core.decoding import ACCEPT_ENCODING, MAX_CODINGS, STEP, BoundedDecoder
from airflow_provider_rh.core.http import MAX_TOKEN_RESPONSE_BYTES, make_async_client
from airflow_provider_rh.exceptions import ApiError, PayloadTooLargeError
from tests.core._seams import Sleeps, make_client, token_response
from tests.core.test_http_bounds import TOKEN, api_client
from tests.slow_server import SlowServer, json_body


@pytest.fixture
def loopback() -> Iterator[Callable[[dict[str, Any]], SlowServer]]:
    """Starts loopback servers for a test (route -> behaviour) and stops them after it."""
    with ExitStack() as stack:
        yield lambda routes: stack.enter_context(SlowServer(routes).running())


#: What the bombs inflate to: 64 times the token cap. httpx decoded a whole network chunk
#: (64 KiB of it is ~64 MiB of zeros) before the cap was looked at.
BOMB_SIZE = 64 * MAX_TOKEN_RESPONSE_BYTES
#: Allowed above the cap: a few decoding steps per layer and the ordinary cost of a request.
SLACK = 3 * 1024 * 1024


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, 9)


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


CODERS: dict[str, Callable[[bytes], bytes]] = {"gzip": _gzip, "x-gzip": _gzip, "deflate": _deflate}


def encode(data: bytes, header: str) -> bytes:
    """``data`` with the codings of a Content-Encoding ``header`` applied in its order."""
    for name in (part.strip() for part in header.split(",")):
        data = CODERS[name](data) if name != "identity" else data
    return data


def encoded(body: bytes, header: str) -> Callable[[socket.socket, threading.Event], None]:
    """A loopback behaviour: ``body`` sent as is, with ``Content-Encoding: header``."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Encoding: {header}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        try:
            conn.sendall(head.encode() + body)
        except OSError:
            return

    return behave


_BOMBS: dict[str, bytes] = {}


def bomb(header: str) -> bytes:
    if header not in _BOMBS:
        _BOMBS[header] = encode(b"\0" * BOMB_SIZE, header)
    return _BOMBS[header]


def peak_while(call: Callable[[], object]) -> tuple[int, BaseException | None]:
    """The peak of traced memory above the start while ``call`` runs, and what it raised."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        error: BaseException | None = None
        try:
            call()
        except Exception as exc:
            error = exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start, error


STACKS = ["gzip", "deflate", "gzip, gzip", "deflate, gzip", "gzip, deflate"]


@pytest.mark.parametrize("header", STACKS)
def test_a_token_bomb_is_refused_with_memory_near_the_cap(loopback, header):
    body = bomb(header)
    assert len(body) < 300_000  # small on the wire ...
    server = loopback({"/token": encoded(body, header)})
    client = api_client(server)
    peak, error = peak_while(client.tokens.get_token)
    assert isinstance(error, PayloadTooLargeError), error
    assert error.limit == MAX_TOKEN_RESPONSE_BYTES
    assert peak < MAX_TOKEN_RESPONSE_BYTES + SLACK, f"peak {peak:,} bytes"  # ... and small in memory


@pytest.mark.parametrize("header", ["gzip", "gzip, gzip"])
def test_the_async_path_refuses_a_bomb_with_memory_near_the_cap(loopback, header):
    server = loopback({"/token": encoded(bomb(header), header)})
    client = api_client(server)

    async def call() -> None:
        async with make_async_client(client.config) as http:
            await client.tokens.aget_token(http)

    peak, error = peak_while(lambda: asyncio.run(call()))
    assert isinstance(error, PayloadTooLargeError), error
    assert peak < MAX_TOKEN_RESPONSE_BYTES + SLACK, f"peak {peak:,} bytes"


@pytest.mark.parametrize("header", [*STACKS, "identity", "gzip, identity", "x-gzip"])
def test_a_compressed_answer_within_the_cap_reads_as_sent(loopback, header):
    records = {"items": [{"id": n, "name": f"unit {n}"} for n in range(2000)]}
    raw = json.dumps(records).encode()
    server = loopback({"/token": json_body(TOKEN), "/api/units": encoded(encode(raw, header), header)})
    response = api_client(server).request("GET", "/units")
    assert response.json() == records
    assert "content-encoding" not in response.headers  # the body it holds is decoded


def test_raw_deflate_is_read_as_browsers_read_it():
    payload = b'{"items": [1, 2, 3]}' * 1000
    decoder = BoundedDecoder("deflate")
    body = b"".join([*decoder.decode(_raw_deflate(payload)), *decoder.flush()])
    assert body == payload


def test_no_decoding_step_hands_on_more_than_a_step():
    decoder = BoundedDecoder("gzip, gzip")
    data = bomb("gzip, gzip")
    sizes = [len(piece) for piece in decoder.decode(data)]
    sizes += [len(piece) for piece in decoder.flush()]
    assert sum(sizes) == BOMB_SIZE
    assert max(sizes) <= STEP


def _refused(header: str, content: bytes, requests: list[httpx.Request]) -> ApiError:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/"):
            return token_response()
        requests.append(request)
        stream = httpx.ByteStream(content)  # raw bytes on the wire, not decoded in advance
        return httpx.Response(200, headers={"Content-Encoding": header}, stream=stream)

    client = make_client(handler, Sleeps())
    with pytest.raises(ApiError) as info:
        client.request("GET", "/units")
    return info.value


def test_more_layers_than_the_limit_are_refused_before_decoding():
    requests: list[httpx.Request] = []
    header = ", ".join(["gzip"] * (MAX_CODINGS + 1))
    error = _refused(header, encode(b"{}", header), requests)
    assert f"compressed {MAX_CODINGS + 1} times over" in str(error)
    assert f"at most {MAX_CODINGS} layers" in str(error)
    assert len(requests) == 1  # not retried: it would come back the same


@pytest.mark.parametrize("coding", ["br", "zstd", "compress"])
def test_a_coding_this_client_never_asked_for_is_refused_by_name(coding):
    requests: list[httpx.Request] = []
    error = _refused(coding, b"\x0b\x01\x80{}\x03", requests)
    assert f"Content-Encoding '{coding}'" in str(error)
    assert "asks for gzip, deflate only" in str(error)
    assert requests[0].headers["Accept-Encoding"] == ACCEPT_ENCODING


def test_a_body_that_is_not_what_its_coding_says_is_refused_as_such():
    requests: list[httpx.Request] = []
    error = _refused("gzip", b"not gzip at all", requests)
    assert "the body is not valid gzip data" in str(error)
    assert error.status_code == 200
    assert len(requests) == 1


def test_an_overlong_content_encoding_is_refused_without_echoing_it():
    requests: list[httpx.Request] = []
    error = _refused("gzip," * 10_000, b"", requests)
    assert "the Content-Encoding header is 50,000 characters; at most 256 are read" in str(error)
    assert len(str(error)) < 600


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_a_body_split_anywhere_decodes_the_same():
    payload = bytes(range(256)) * 500
    wire = encode(payload, "deflate, gzip")
    for size in (1, 7, 4096):
        decoder = BoundedDecoder("deflate, gzip")
        pieces = [piece for chunk in _chunks(wire, size) for piece in decoder.decode(chunk)]
        assert b"".join([*pieces, *decoder.flush()]) == payload
