"""Property tests of the Link header parser (RFC 8288): any text gives links or our own error,
in work linear in its length, and what we format we read back."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh.exceptions import PaginationError
from airflow_provider_rh.pagination import _follow
from airflow_provider_rh.pagination._follow import MAX_LINK_HEADER_CHARS, parse_link_header
from tests.fuzz._work import lines_run

pytestmark = pytest.mark.fuzz

#: Lines of the parser run per character of input, at most (measured worst: 15, for ';' runs).
LINES_PER_CHAR = 20

# Text made mostly of the characters the grammar cares about, so the parser's branches are hit.
GRAMMAR = st.sampled_from([*'<>;,="\\ \t', "rel", "next", "a", "https://x/?p=1", "é"])
link_text = st.one_of(
    st.text(max_size=300),
    st.lists(GRAMMAR, max_size=400).map("".join),
)


@given(link_text)
@example(";" * 4000)
@example("<a>" + ";" * 8000)
@example('<a>; a="' + "\\" * 5000)
@example("<" * 9000)
def test_any_header_gives_links_or_our_error_in_linear_work(text):
    lines, result = lines_run(_follow, lambda: parse_link_header(text))
    assert lines <= LINES_PER_CHAR * min(len(text), MAX_LINK_HEADER_CHARS) + 50
    if len(text) > MAX_LINK_HEADER_CHARS:
        assert isinstance(result, PaginationError)
        assert f"{len(text):,} characters" in str(result)
        assert len(str(result)) < 120  # says what, does not echo it
        return
    assert isinstance(result, list), result
    for url, params in result:
        assert url in text
        assert all(name == name.lower() and name for name in params)


TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~"
urls = st.text(
    alphabet=st.characters(blacklist_characters="<>", blacklist_categories=("Cs",)), max_size=60
).map(str.strip)
names = st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=12)
values = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).map(str.strip)
links = st.lists(st.tuples(urls, st.dictionaries(names, values, max_size=4)), max_size=6)


def format_links(items: list[tuple[str, dict[str, str]]]) -> str:
    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return ", ".join(f"<{url}>" + "".join(f"; {k}={quoted(v)}" for k, v in p.items()) for url, p in items)


@given(links)
@example([("https://api.example.se/units?page=2", {"rel": "next", "title": 'say "hi", then; go'})])
def test_what_is_formatted_is_read_back(items):
    assert parse_link_header(format_links(items)) == items


@given(links, st.sampled_from(["next", "prev", "last"]))
def test_the_rel_asked_for_is_found_whatever_else_is_there(items, rel):
    wanted = ("https://api.example.se/units?page=9", {"rel": f"first {rel}"})
    parsed = parse_link_header(format_links([*items, wanted]))
    found = [url for url, params in parsed if rel in params.get("rel", "").split()]
    assert wanted[0] in found
