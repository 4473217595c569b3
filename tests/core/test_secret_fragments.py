"""Secret fragments, a registry that never forgets the subscriber key, and log forging.

Issue 14 class 3: a token endpoint quoting part of the client assertion (its signature
segment, its ``jti``) got that part into the exception. Issue 19 classes 2 and 3: the registry
evicted the subscriber key after a few thousand tokens; control characters from a server
reached messages as they were.
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_rh.core import redact
from airflow_provider_rh.exceptions import ApiError, RegionHallandError, TokenError
from tests.core._seams import form, make_client, token_response


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    redact.forget_all()
    yield
    redact.forget_all()


def fake_jwt(jti: str, exp: float, signature: str = "c2lnbmF0dXJlLXNlZ21lbnQtb2YtdGhlLXRva2Vu") -> str:
    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{b64({'jti': jti, 'exp': exp, 'sub': 'x'})}.{signature}"


def test_a_token_endpoint_quoting_the_assertions_signature_and_jti_leaks_neither():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assertion = form(request)["client_assertion"]
        seen.append(assertion)
        signature = assertion.rsplit(".", 1)[1]
        padded = assertion.split(".")[1] + "=" * (-len(assertion.split(".")[1]) % 4)
        jti = json.loads(base64.urlsafe_b64decode(padded))["jti"]
        return httpx.Response(
            400,
            json={
                "error": "invalid_client",
                "error_description": f"MSIS9622: replayed jti {jti}; signature ends {signature[-40:]} "
                f"and starts {signature[:20]}",
            },
        )

    with pytest.raises(TokenError) as info:
        make_client(handler).tokens.get_token()
    assertion = seen[0]
    signature = assertion.rsplit(".", 1)[1]
    padded = assertion.split(".")[1] + "=" * (-len(assertion.split(".")[1]) % 4)
    jti = json.loads(base64.urlsafe_b64decode(padded))["jti"]
    for text in (str(info.value), info.value.error_description or ""):
        assert jti not in text
        assert signature[-40:] not in text
        assert signature[:20] not in text
        assert jti[:12] not in text
    assert "MSIS9622: replayed jti ***" in str(info.value)


def test_half_an_access_token_in_an_api_error_body_is_masked():
    token = "opaque-token-0123456789abcdefghij"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/"):
            return token_response(token)
        return httpx.Response(500, text=f"upstream saw ...{token[10:]} and {token[:14]}")

    with pytest.raises(ApiError) as info:
        make_client(handler).request("GET", "/units")
    assert token[10:] not in str(info.value)
    assert token[:14] not in info.value.body_excerpt
    assert "upstream saw" in str(info.value)


@pytest.mark.parametrize("length", [12, 13, 30])
def test_every_fragment_at_the_threshold_or_longer_is_masked(length):
    secret = "Zq8vN2xW4kP7rT1yB6mC9dF3hJ5"
    redact.register(secret, keep=True)
    for start in range(len(secret) - length + 1):
        fragment = secret[start : start + length]
        assert fragment not in redact.redact(f"said {fragment}!"), fragment


def test_short_fragments_and_short_secrets_follow_the_documented_rule():
    redact.register("Zq8vN2xW4kP7rT1yB6mC9dF3hJ5", keep=True)
    redact.register("short-key", keep=True)  # 9 characters: masked whole only
    assert redact.redact("part Zq8vN2xW4kP and more") == "part Zq8vN2xW4kP and more"  # 11 < 12
    assert redact.redact("short-key!") == "***!"
    assert redact.redact("short-ke") == "short-ke"


def test_a_pems_armour_lines_stay_readable_its_body_does_not():
    pem = (
        "-----BEGIN PRIVATE KEY-----\n" + "MIIEvQIBADANBgkqhkiG9w0BAQEF" * 3 + "\n-----END PRIVATE KEY-----\n"
    )
    redact.register(pem)
    said = redact.redact("expected -----BEGIN PRIVATE KEY----- first; got kiG9w0BAQEFMIIEvQIB")
    assert "-----BEGIN PRIVATE KEY-----" in said
    assert "kiG9w0BAQEFMIIEvQIB" not in said


def test_after_5000_tokens_the_subscriber_key_is_still_masked_and_memory_is_bounded():
    now = [1_800_000_000.0]
    previous = redact.set_clock(lambda: now[0])
    try:
        redact.register("subscriber-key-0123456789abcdef", keep=True)
        for n in range(5000):
            redact.register(fake_jwt(f"jti-{n:08d}-aaaa-bbbb", exp=now[0] + 3600))
            now[0] += 60  # one token a minute: about three and a half days of a triggerer
        stats = redact.stats()
        assert stats["kept"] >= 1
        still_valid = (3600 + redact.EXPIRY_GRACE) // 60 + 1
        assert stats["short_lived"] <= 2 * still_valid  # only the tokens (and jtis) still valid
        said = str(RegionHallandError("gateway said key subscriber-key-0123456789abcdef is wrong"))
        assert "subscriber-key-0123456789abcdef" not in said
        assert "0123456789abcdef" not in said
    finally:
        redact.set_clock(previous)


def test_short_lived_values_expire_with_their_token_and_the_cap_evicts_the_soonest_first():
    now = [1_800_000_000.0]
    previous = redact.set_clock(lambda: now[0])
    try:
        token = fake_jwt("jti-expiring-0000-1111", exp=now[0] + 3600)
        redact.register(token)
        assert redact.redact(f"x {token[-30:]}") == "x ***"
        now[0] += 3600 + redact.EXPIRY_GRACE + 1
        assert token[-30:] in redact.redact(f"x {token[-30:]}")  # expired: forgotten
        for n in range(redact.MAX_SHORT_LIVED + 50):
            redact.register(f"opaque-token-{n:012d}")  # no expiry of their own: a day
        assert redact.stats()["short_lived"] <= redact.MAX_SHORT_LIVED
        assert redact.redact(f"opaque-token-{redact.MAX_SHORT_LIVED + 49:012d}") == "***"
    finally:
        redact.set_clock(previous)


def test_an_expired_or_absurd_exp_still_masks_the_token_for_the_grace():
    for exp in (0, -1e300, 1e300, math.pi):
        token = fake_jwt(f"jti-{exp}-absurd-expiry", exp=exp)
        redact.register(token)
        assert redact.redact(token) == "***"


@pytest.mark.parametrize(
    ("server", "shown"),
    [
        (
            "ok\r\n2026-01-01 INFO - Marking task as SUCCESS",
            "ok\\r\\n2026-01-01 INFO - Marking task as SUCCESS",
        ),
        ("\x1b[2J\x1b[Hcleared", "\\x1b[2J\\x1b[Hcleared"),
        ("abc\u202edcba", "abc\\u202edcba"),
        ("nul\x00 del\x7f c1\x85 ls\u2028", "nul\\x00 del\\x7f c1\\x85 ls\\u2028"),
    ],
)
def test_control_characters_from_a_server_are_escaped_in_messages(server, shown):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token/"):
            return token_response("token-for-log-forging-test")
        return httpx.Response(502, text=server)

    with pytest.raises(ApiError) as info:
        make_client(handler).request("GET", "/units")
    assert shown in str(info.value)
    assert shown in info.value.body_excerpt
    assert "\n" not in str(info.value)
    assert "\x1b" not in str(info.value)


def test_shown_cuts_server_text_and_says_how_much_was_left_out():
    assert redact.shown("a" * 1200, 500) == "a" * 500 + "… (700 more characters)"
    assert redact.shown("short", 500) == "short"
    redact.register("secret-across-the-cut", keep=True)
    cut = redact.shown("x" * 490 + "secret-across-the-cut and more", 500)
    assert "secret" not in cut
    assert cut.startswith("x" * 490 + "***")


def test_an_overlong_message_keeps_its_start_and_its_advice():
    error = RegionHallandError("Refusing " + "k" * 100_000 + ": check the path and try again.")
    text = str(error)
    assert len(text) < 4200
    assert text.startswith("Refusing kkk")
    assert text.endswith(": check the path and try again.")
    assert "characters left out" in text


def test_the_credential_patterns_stay_linear_on_hostile_text():
    """CPU of 512 KB against 64 KB of the same pattern: linear is ~8x, quadratic ~64x.

    A ratio of CPU time of this thread, so neither the machine's speed nor other processes
    decide it.
    """

    def cpu(text: str) -> float:
        best = math.inf
        for _ in range(2):
            start = time.thread_time()
            redact.redact(text)
            best = min(best, time.thread_time() - start)
        return max(best, 1e-4)

    redact.register("subscriber-key-0123456789abcdef", keep=True)
    for unit in ("eyJ", "eyJa.", "authorization" + " " * 20, "-----BEGIN A", "bearer ", "0123456789abcdef"):
        small, large = unit * (64 * 1024 // len(unit)), unit * (512 * 1024 // len(unit))
        assert cpu(large) / cpu(small) < 24, unit
