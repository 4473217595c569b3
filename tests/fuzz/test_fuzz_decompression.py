"""Property tests of content decoding: any stack of codings over any body, bombs included, is
read whole or refused with our own error, and never holds more than the cap plus one step."""

from __future__ import annotations

import gzip
import zlib

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh.core.decoding import MAX_CODINGS, STEP, BoundedDecoder, CodingError
from airflow_provider_rh.core.http import send
from airflow_provider_rh.exceptions import ApiError, PayloadTooLargeError
from tests.fuzz._work import outcome

pytestmark = pytest.mark.fuzz

CODERS = {
    "gzip": lambda data: gzip.compress(data, 6),
    "x-gzip": lambda data: gzip.compress(data, 6),
    "deflate": lambda data: zlib.compress(data, 6),
    "identity": lambda data: data,
}
stacks = st.lists(st.sampled_from(sorted(CODERS)), max_size=MAX_CODINGS + 2)
bodies = st.one_of(
    st.binary(max_size=2000),
    st.integers(0, 8 * 1024 * 1024).map(lambda size: b"\0" * size),  # bombs, up to 8 MiB
)
caps = st.integers(0, 2 * 1024 * 1024)


def encode(data: bytes, stack: list[str]) -> bytes:
    for name in stack:
        data = CODERS[name](data)
    return data


def read(decoder: BoundedDecoder, wire: bytes, cap: int, chunk: int) -> tuple[bytes | None, int]:
    """The body, or None once it passes ``cap``; and the most held at any moment."""
    held, most = bytearray(), 0
    chunks = (wire[start : start + chunk] for start in range(0, len(wire), chunk))
    for piece in (piece for part in chunks for piece in decoder.decode(part)):
        assert len(piece) <= STEP
        held += piece
        most = max(most, len(held))
        if len(held) > cap:
            return None, most
    for piece in decoder.flush():
        assert len(piece) <= STEP
        held += piece
        most = max(most, len(held))
        if len(held) > cap:
            return None, most
    return bytes(held), most


@given(stacks, bodies, caps, st.sampled_from([1, 100, 65536]))
@example(["gzip", "gzip"], b"\0" * (8 * 1024 * 1024), 1024 * 1024, 65536)
@example(["deflate", "gzip"], b"\0" * (8 * 1024 * 1024), 0, 65536)
def test_any_stack_reads_whole_or_stops_at_the_cap_plus_a_step(stack, body, cap, chunk):
    header = ", ".join(stack)
    layers = [name for name in stack if name != "identity"]
    made = outcome(lambda: BoundedDecoder(header))
    if len(layers) > MAX_CODINGS:
        assert isinstance(made, CodingError)
        assert f"at most {MAX_CODINGS} layers" in str(made)
        return
    assert isinstance(made, BoundedDecoder)
    data, most = read(made, encode(body, stack), cap, chunk)
    assert most <= cap + STEP
    assert data == (body if len(body) <= cap else None)


@given(
    st.sampled_from(["gzip", "deflate", "gzip, deflate", "br", "zstd", "gzip;q=1", ""]),
    st.binary(max_size=300),
)
def test_garbage_in_any_coding_is_our_error_or_bytes(header, wire):
    def decode() -> bytes:
        decoder = BoundedDecoder(header)
        return b"".join([*decoder.decode(wire), *decoder.flush()])

    result = outcome(decode)
    assert isinstance(result, bytes | CodingError), repr(result)


_STATE: dict[str, tuple[str, bytes]] = {}
_HTTP = httpx.Client(
    transport=httpx.MockTransport(
        lambda request: httpx.Response(
            200,
            headers={"Content-Encoding": _STATE["now"][0]},
            stream=httpx.ByteStream(_STATE["now"][1]),
        )
    )
)


@given(stacks, bodies, caps)
def test_an_http_answer_in_any_coding_is_read_whole_or_refused_as_ours(stack, body, cap):
    _STATE["now"] = (", ".join(stack), encode(body, stack))
    result = outcome(lambda: send(_HTTP, "GET", "https://api.example.se/x", timeout=60, max_bytes=cap))
    if isinstance(result, httpx.Response):
        assert result.content == body
        assert len(body) <= cap
    else:
        assert isinstance(result, PayloadTooLargeError | ApiError), repr(result)
        if isinstance(result, PayloadTooLargeError):
            assert len(body) > cap
            assert result.size <= cap + STEP
