"""Properties of redaction: no registered secret, and no fragment of one at or above the
threshold, survives in any text; server text shown carries no control character; the work is
bounded by the text's length (issue 14, "Also required")."""

from __future__ import annotations

import string
import tracemalloc
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh.core import redact
from airflow_provider_rh.exceptions import RegionHallandError

pytestmark = pytest.mark.fuzz

#: Secrets as they come: base64, hex, PEM bodies, passphrases; never the mask's own ``*``.
SECRET_CHARS = string.ascii_letters + string.digits + "+/=-_.~!#$%&@ ^"
secrets_ = st.text(alphabet=SECRET_CHARS, min_size=redact.FRAGMENT_SECRET_CHARS, max_size=200).filter(
    lambda s: s.strip() == s
)
short_secrets = st.text(
    alphabet=SECRET_CHARS, min_size=redact.MIN_SECRET_CHARS, max_size=redact.FRAGMENT_SECRET_CHARS - 1
).filter(lambda s: s.strip() == s)
noise = st.text(max_size=300)

_UNSAFE = {0x61C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


@pytest.fixture(autouse=True)
def _clean_registry():
    redact.forget_all()
    yield
    redact.forget_all()


def fragments(secret: str) -> list[str]:
    n = redact.FRAGMENT_CHARS
    return [secret[i : i + n] for i in range(len(secret) - n + 1)]


@given(secret=secrets_, before=noise, after=noise, data=st.data())
@example(secret="a" * 16, before="a" * 11, after="a" * 11, data=None)
@example(secret="abcdefghijklXabcdefghijklY", before="", after="Z", data=None)
def test_no_secret_and_no_fragment_above_the_threshold_survives(secret, before, after, data):
    redact.forget_all()
    redact.register(secret, keep=True)
    if data is None:
        start, length = 0, len(secret)
    else:
        length = data.draw(st.integers(redact.FRAGMENT_CHARS, len(secret)), label="length")
        start = data.draw(st.integers(0, len(secret) - length), label="start")
    text = before + secret[start : start + length] + after
    out = redact.redact(text)
    assert secret not in out
    for fragment in fragments(secret):
        assert fragment not in out


@given(secret=short_secrets, before=noise, after=noise)
def test_a_short_secret_never_survives_whole(secret, before, after):
    redact.forget_all()
    redact.register(secret, keep=True)
    assert secret not in redact.redact(before + secret + after)


@given(secrets=st.lists(secrets_, min_size=1, max_size=5), pick=st.integers(0, 4), text=noise)
def test_many_secrets_each_masked_in_an_exception(secrets, pick, text):
    redact.forget_all()
    for secret in secrets:
        redact.register(secret)  # short-lived: a day
    secret = secrets[pick % len(secrets)]
    error = RegionHallandError(f"{text}{secret[1:]}{text}")
    for fragment in fragments(secret[1:]):
        assert fragment not in str(error)


@given(text=st.text(max_size=2000), limit=st.integers(1, 600))
@example(text="ok\r\nINFO - Marking task as SUCCESS\x1b[2J\u202e", limit=500)
def test_shown_text_has_no_control_character_and_respects_its_limit(text, limit):
    out = redact.shown(text, limit)
    for char in out:
        assert unicodedata.category(char) not in ("Cc", "Zl", "Zp", "Cs"), repr(char)
        assert ord(char) not in _UNSAFE, repr(char)
    if len(text) > limit:
        assert out.endswith(" more characters)")


@given(text=st.text(max_size=3000))
def test_redaction_never_fails_and_is_idempotent(text):
    once = redact.redact(text)
    assert redact.redact(once) == once


def test_one_megabyte_of_hostile_text_is_redacted_in_bounded_memory():
    """Work and memory bounded by the text: index sizes fixed by the secrets, not the text."""
    for n in range(50):
        redact.register(f"subscriber-key-{n:04d}-0123456789abcdef", keep=True)
    before = redact.stats()
    text = ("eyJ" * 1000 + "subscriber-key-0001-0123456789" + "authorization: " + "-----BEGIN A") * 260
    assert len(text) > 750_000
    tracemalloc.start()
    try:
        out = redact.redact(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "subscriber-key-0001-0123456789" not in out
    assert peak < 16 * len(text)  # a few copies of the text and its spans, nothing quadratic
    assert redact.stats() == before
