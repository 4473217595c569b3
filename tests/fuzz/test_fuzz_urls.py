"""Property tests of next-link resolution and the URL checks: whatever a server or a user puts
in a URL, the token goes to the API's own origin or the URL is refused with our own error."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh.core.client import MAX_URL_CHARS, merge_query, resolve_url
from airflow_provider_rh.core.urls import SHOWN_PATH_CHARS, shown, url_problem
from airflow_provider_rh.exceptions import ConfigurationError, UnsafeUrlError
from airflow_provider_rh.pagination import Page, PageRequest
from tests.fuzz._work import outcome

pytestmark = pytest.mark.fuzz

BASE = "https://api.example.se:443/hsainfo/v1"
PAGE_URL = f"{BASE}/units?page=1"

PIECES = st.sampled_from(
    [
        "https://", "http://", "//", "api.example.se", "evil.example", ":443", ":0", ":99999", "@",
        "u:p@", "/", "..", "?", "#", "%2F", "[::1]", "\\", " ", "\n", "\x00", "é", "units", "=",
    ]
)  # fmt: skip
link_text = st.one_of(st.text(max_size=200), st.lists(PIECES, max_size=30).map("".join))


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or 443


@given(link_text)
@example("https://u:p@api.example.se/x")
@example("//evil.example/x")
@example("https://api.example.se:443@evil.example/")
@example("https://api.example.se/" + "a" * (MAX_URL_CHARS + 1))
def test_a_next_link_stays_on_the_origin_or_is_refused(link):
    absolute = Page(1, PageRequest("/units"), PAGE_URL, {}, {}, []).resolve(link)
    url = outcome(lambda: resolve_url(BASE, absolute))
    if isinstance(url, Exception):
        assert isinstance(url, UnsafeUrlError), url
        assert len(str(url)) < 800
        return
    assert isinstance(url, str)
    assert len(url) <= MAX_URL_CHARS
    assert origin(url) == origin(BASE)
    assert "@" not in urlsplit(url).netloc


@given(link_text)
def test_a_relative_path_is_joined_under_the_base_or_refused(path):
    try:
        url = resolve_url(BASE, path)
    except UnsafeUrlError:
        return
    if "://" not in path.split("?", 1)[0]:
        assert url.startswith(BASE)


@given(st.one_of(link_text, st.text(min_size=MAX_URL_CHARS, max_size=MAX_URL_CHARS * 2)))
@example("0?0")
@example("A://:0000:0@/:0000:0@")
def test_url_checks_answer_with_a_reason_or_none_and_never_raise(url):
    for proxy in (False, True):
        problem = url_problem(url, proxy=proxy)
        assert problem is None or isinstance(problem, str)
        if problem is None:
            parts = urlsplit(url)
            assert parts.scheme in ("http", "https")
            assert "@" not in parts.netloc
    text = shown(url)
    assert len(text) <= SHOWN_PATH_CHARS + 350  # scheme, host, port and the length note at most
    try:
        parts = urlsplit(url)
        secret = parts.password
    except ValueError:
        return
    if parts.query:
        assert f"?{parts.query}" not in text  # the query is never echoed
    if secret and len(secret) > 3:
        # no credentials shown where they were (the path may hold the same characters by chance)
        authority = text.split("://", 1)[-1].split("/", 1)[0]
        assert f":{secret}@" not in authority


query_keys = st.text(alphabet="abcxyz_", min_size=1, max_size=4)
query_values = st.one_of(st.text(alphabet="abc 1&=?", max_size=5), st.integers(), st.booleans())


@given(
    st.lists(st.tuples(query_keys, st.text(alphabet="abc1", max_size=4)), max_size=4),
    st.dictionaries(query_keys, st.one_of(query_values, st.lists(query_values, max_size=3)), max_size=4),
)
def test_a_query_in_the_path_and_parameters_all_arrive_in_order(written, params):
    url = f"{BASE}/units" + (f"?{urlencode(written)}" if written else "")
    result = outcome(lambda: merge_query(url, params))
    if isinstance(result, Exception):
        assert isinstance(result, ConfigurationError), result
        assert {key for key, _ in written} & set(params)
        assert "is both in the path" in str(result)
        return
    assert isinstance(result, tuple)
    merged_url, merged = result
    sent = httpx.Request("GET", merged_url, params=merged).url
    items = parse_qsl(sent.query.decode(), keep_blank_values=True)
    assert items[: len(written)] == written  # the path's query first, as written
    expected = [
        (key, str(httpx.QueryParams({key: item})[key]) if not isinstance(item, str) else item)
        for key, value in params.items()
        for item in (value if isinstance(value, list) else [value])
    ]
    assert items[len(written) :] == expected  # then every parameter, in order
