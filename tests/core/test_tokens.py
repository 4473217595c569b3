"""Token responses and the per-resource cache."""

from __future__ import annotations

import threading
import time

import pytest

from airflow_provider_rh.core.tokens import (
    AccessToken,
    TokenCache,
    TokenKey,
    normalize_scopes,
    parse_token_response,
)
from airflow_provider_rh.exceptions import TokenError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("expires_in", [3600, "3600", 3600.0])
def test_expires_in_may_be_number_or_string(expires_in):
    token = parse_token_response(
        {"access_token": "abc", "token_type": "bearer", "expires_in": expires_in}, obtained_at=0
    )
    assert token.expires_in == 3600
    assert token.value == "abc"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"token_type": "bearer"}, "access_token is missing"),
        ({"access_token": "a", "expires_in": "soon"}, "not a number"),
        ({"access_token": "a", "expires_in": 0}, "already be expired"),
        ({"access_token": "a", "token_type": "mac"}, "only bearer"),
        (["not", "an", "object"], "not a JSON object"),
    ],
)
def test_bad_token_responses(payload, message):
    with pytest.raises(TokenError, match=message):
        parse_token_response(payload, obtained_at=0)


def test_token_repr_hides_the_value():
    token = AccessToken(value="very-secret-token", expires_in=60, obtained_at=0)
    assert "very-secret-token" not in repr(token)


def test_renewal_margin_scales_for_short_lived_tokens():
    long = AccessToken(value="x", expires_in=3600, obtained_at=0)
    short = AccessToken(value="x", expires_in=10, obtained_at=0)
    assert long.renew_at == 3600 - 120
    assert short.renew_at == pytest.approx(9.0)
    assert short.is_fresh(8.9)
    assert not short.is_fresh(9.0)


def test_cache_reuses_until_renewal_then_fetches_again():
    clock = FakeClock()
    cache = TokenCache(clock=clock)
    key = TokenKey("https://t/", "client", "thumb", "res", "a.read")
    fetched: list[int] = []

    def fetch() -> AccessToken:
        fetched.append(1)
        return AccessToken(value=f"t{len(fetched)}", expires_in=100, obtained_at=clock())

    assert cache.get_or_fetch(key, fetch).value == "t1"
    clock.now += 89
    assert cache.get_or_fetch(key, fetch).value == "t1"
    clock.now += 2  # past 100 - 10% margin
    assert cache.get_or_fetch(key, fetch).value == "t2"
    assert len(fetched) == 2


def test_one_token_per_resource():
    cache = TokenCache()
    a = TokenKey("https://t/", "client", "thumb", "a", None)
    b = TokenKey("https://t/", "client", "thumb", "b", None)
    cache.get_or_fetch(a, lambda: AccessToken("ta", 100, time.monotonic()))
    cache.get_or_fetch(b, lambda: AccessToken("tb", 100, time.monotonic()))
    assert cache.get(a).value == "ta"
    assert cache.get(b).value == "tb"
    assert len(cache) == 2


def test_concurrent_callers_cause_one_fetch():
    cache = TokenCache()
    key = TokenKey("https://t/", "client", "thumb", "res", None)
    calls = []
    fetching, gate = threading.Event(), threading.Event()
    started = threading.Barrier(9)  # eight callers and this test

    def slow_fetch() -> AccessToken:
        calls.append(1)
        fetching.set()
        gate.wait(timeout=60)  # a safety bound; the test opens it
        return AccessToken("t", 100, time.monotonic())

    def call() -> None:
        started.wait(timeout=60)
        results.append(cache.get_or_fetch(key, slow_fetch).value)

    results: list[str] = []
    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    started.wait(timeout=60)  # every caller is on its way while the first one fetches
    assert fetching.wait(timeout=60)
    gate.set()
    for thread in threads:
        thread.join(timeout=60)
    assert calls == [1]
    assert results == ["t"] * 8


def test_invalidate_only_the_refused_token():
    cache = TokenCache()
    key = TokenKey("https://t/", "client", "thumb", "res", None)
    old = AccessToken("old", 100, time.monotonic())
    new = AccessToken("new", 100, time.monotonic())
    cache.put(key, new)
    cache.invalidate(key, old)  # someone else already renewed it
    assert cache.get(key) is new
    cache.invalidate(key, new)
    assert cache.get(key) is None


def test_normalize_scopes():
    assert normalize_scopes("b.read  a.read b.read") == "b.read a.read"
    assert normalize_scopes(["a.read", "b.write"]) == "a.read b.write"
    assert normalize_scopes("") is None
    assert normalize_scopes(None) is None
