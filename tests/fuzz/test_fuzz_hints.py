"""Property tests of what is read from refusals: MSIS and clock hints from any error text, in
linear work, and API error bodies cut to an excerpt whatever their size or charset."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh.core import hints
from airflow_provider_rh.core.client import BODY_EXCERPT_CHARS, api_error
from airflow_provider_rh.core.hints import CLOCK_HINT, MSIS_HINTS, OAUTH_HINTS, hint_for, is_clock_problem
from airflow_provider_rh.exceptions import ApiError
from tests.fuzz._work import lines_run, outcome

pytestmark = pytest.mark.fuzz

KNOWN = {*MSIS_HINTS.values(), *OAUTH_HINTS.values(), CLOCK_HINT}
PIECES = st.sampled_from(
    ["MSIS", "9601", "MSIS9622", "MSIS96011", "expired", "not yet", "valid", " ", ":", "certificate",
     "invalid_client", "nbf", "x", "é", "\n"]
)  # fmt: skip
texts = st.one_of(st.none(), st.text(max_size=300), st.lists(PIECES, max_size=40).map("".join))
errors = st.one_of(st.none(), st.sampled_from(sorted(OAUTH_HINTS)), st.text(max_size=20))


@given(errors, texts)
@example(None, "MSIS" * 100_000)
@example("invalid_grant", "e" * 1_000_000)
def test_any_refusal_gets_a_known_hint_or_none_in_bounded_work(error, description):
    lines, hint = lines_run(hints, lambda: hint_for(error, description))
    assert hint is None or hint in KNOWN
    assert lines < 50  # the regexes run in C over at most MAX_HINT_TEXT_CHARS characters


@given(st.sampled_from(sorted(MSIS_HINTS)), st.text(alphabet="abc ,.:", max_size=50))
def test_a_known_msis_code_gives_its_hint_unless_the_clock_is_the_cause(code, around):
    description = f"{around} {code}: {around}"
    expected = CLOCK_HINT if is_clock_problem(description) else MSIS_HINTS[code]
    assert hint_for("invalid_request", description) == expected


@given(
    st.sampled_from(["expired", "not yet valid", "AADSTS700024", "IDX10223", "nbf"]),
    st.text(alphabet="abcdfghjkmoqruwz ,.", max_size=40),
)
def test_a_refusal_about_time_gets_the_clock_hint(word, around):
    assert hint_for("invalid_grant", f"{around} {word} {around}") == CLOCK_HINT


@given(
    st.sampled_from([400, 401, 403, 404, 407, 429, 500, 503]),
    st.one_of(st.binary(max_size=3000), st.just(b"\xff" * 100_000), st.just("å".encode() * 50_000)),
    st.sampled_from(
        ["application/json", "text/plain; charset=no-such-charset", "text/html; charset=utf-16", ""]
    ),
)
def test_any_error_body_becomes_an_api_error_with_a_short_excerpt(status, body, content_type):
    response = httpx.Response(
        status,
        content=body,
        headers={"Content-Type": content_type},
        request=httpx.Request("GET", "https://api.example.se/v1/units?secret=1"),
    )
    error = outcome(lambda: api_error(response))
    assert isinstance(error, ApiError), error
    assert len(error.body_excerpt) <= BODY_EXCERPT_CHARS
    assert "secret=1" not in str(error)  # the query is not shown
    assert len(str(error)) < BODY_EXCERPT_CHARS * 2 + 600
