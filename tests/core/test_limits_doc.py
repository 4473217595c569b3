"""The Limits table in docs/troubleshooting.md states the limits the code enforces."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_rh.core import client, decoding, hints, http, oauth
from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.pagination import _follow, _paths

DOC = (Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md").read_text()
LIMITS = DOC[DOC.index("## Limits") :]


def row(what: str) -> str:
    return next(line for line in LIMITS.splitlines() if line.startswith(f"| {what}"))


def test_sizes_in_the_table_are_the_code_s():
    assert http.MAX_TOKEN_RESPONSE_BYTES == 1024 * 1024
    assert "1 MiB" in row("token or discovery response")
    assert http.MAX_API_RESPONSE_BYTES == 256 * 1024 * 1024
    assert "256 MiB" in row("one API response")
    assert decoding.STEP == 64 * 1024
    assert "64 KiB" in row("decompression")
    assert f"at most {decoding.MAX_CODINGS} stacked" in row("content codings")
    assert decoding.ACCEPT_ENCODING == "gzip, deflate"
    assert f"{decoding.MAX_CODING_HEADER_CHARS} characters" in row("`Content-Encoding` header")
    assert f"{_follow.MAX_LINK_HEADER_CHARS:,} characters read" in row("`Link` header")
    assert f"{_follow.MAX_LINK_CHARS:,} characters" in row("a next link")
    assert f"{client.MAX_URL_CHARS:,} characters" in row("any URL sent")
    paths = f"{_paths.MAX_PATH_SEGMENTS} segments, {_paths.MAX_PATH_CHARS:,} characters"
    assert paths in row("`records_path`")
    assert f"| {_paths.SHOWN_KEYS}, then" in row("a page's keys")
    assert f"{client.BODY_EXCERPT_CHARS} characters" in row("error body")
    assert f"{oauth.SERVER_TEXT_CHARS} characters each" in row("`error`")
    assert f"at most {hints.MAX_HINT_TEXT_CHARS:,}" in row("`error`")


def test_the_retry_budget_in_the_table_is_the_default():
    policy = RetryPolicy()
    assert f"({policy.total_seconds:g} s by default) and `attempts` ({policy.attempts})" in row("one call")
