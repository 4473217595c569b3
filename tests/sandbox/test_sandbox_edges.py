"""The sandbox at the edges: dates at the ends of the calendar, and request bodies over the cap."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_rh.sandbox import Sandbox
from airflow_provider_rh.sandbox.bodies import MAX_TOKEN_BODY

from .helpers import Caller


@pytest.fixture
def token(caller: Caller) -> str:
    return caller.token()


def units(caller: Caller, token: str, sb: Sandbox, **params: str) -> httpx.Response:
    return caller.api("/units", token=token, params=params)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("updatedSince", "0001-01-01T00:00:00+01:00"),
        ("updatedBefore", "9999-12-31T23:59:59-01:00"),
        ("updatedSince", "0001-01-01T00:30:00+23:59"),
    ],
)
def test_a_date_that_leaves_the_calendar_in_utc_is_a_400_naming_it(
    caller: Caller, token: str, sb: Sandbox, name: str, value: str
) -> None:
    response = units(caller, token, sb, **{name: value})
    assert response.status_code == 400
    body = response.json()
    assert body["parameter"] == name
    assert "outside the years 1 to 9999" in body["message"]


def test_the_first_and_last_instants_in_utc_are_fine(caller: Caller, token: str, sb: Sandbox) -> None:
    response = units(
        caller,
        token,
        sb,
        updatedSince="0001-01-01T00:00:00Z",
        updatedBefore="9999-12-31T23:59:59Z",
        limit="5",
    )
    assert response.status_code == 200
    assert len(response.json()["items"]) == 5


def test_a_token_request_declaring_a_body_over_the_cap_is_a_413(caller: Caller, sb: Sandbox) -> None:
    body = b"a=" + b"x" * MAX_TOKEN_BODY
    response = caller.http.post(
        sb.token_url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"
    assert str(MAX_TOKEN_BODY) in response.json()["message"]


def test_a_chunked_token_request_is_read_only_up_to_the_cap(sb: Sandbox) -> None:
    """32 MiB sent without a Content-Length: the sandbox (in this process) holds about 64 KiB of it."""
    chunk = b"x" * 65536
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(512):  # 32 MiB
            sent += len(chunk)
            yield chunk

    gc.collect()
    tracemalloc.start()
    try:
        with httpx.Client(timeout=30) as client:
            try:
                response = client.post(
                    sb.token_url,
                    content=body(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            except httpx.TransportError:  # the sandbox answered and closed while we were still sending
                response = None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if response is not None:
        assert response.status_code == 413
    assert sent > MAX_TOKEN_BODY
    assert peak < 4 * 1024 * 1024  # bounded by the cap plus a few chunks, not by what was sent
