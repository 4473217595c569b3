"""Airflow's secrets masker gets the long-lived secrets, not every token (issue 19, class 2).

The masker recompiles one regex over every secret it holds each time one is added: feeding it
every client assertion and access token made a long-running triggerer slower per token (72 ms
to 524 ms after 250). Counted in patterns, not seconds.
"""

from __future__ import annotations

import pytest

from airflow_provider_rh.core import redact
from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.sandbox import Sandbox, SandboxConfig

FAST_RETRY = RetryPolicy(attempts=6, backoff_initial=0.01, backoff_max=0.05, retry_after_cap=0.05)


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    SHARED_TOKEN_CACHE.clear()
    with Sandbox(SandboxConfig(state_dir=tmp_path / "sb", port=0, unit_count=10)) as sb:
        monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", sb.connection_uri_env())
        yield sb
    SHARED_TOKEN_CACHE.clear()


def test_new_tokens_add_no_pattern_to_airflows_masker_but_are_redacted(sandbox):
    from airflow.sdk._shared.secrets_masker import _secrets_masker
    from airflow.sdk._shared.secrets_masker import redact as airflow_redact

    hook = RegionHallandHook(retry=FAST_RETRY)
    hook.request("GET", "/units", params={"limit": 1})
    patterns = len(_secrets_masker().patterns)
    assert patterns > 0  # the connection's secrets are there
    subscriber_key = hook.config.subscription_key
    assert subscriber_key is not None
    assert airflow_redact(subscriber_key) == "***"

    tokens = set()
    for _ in range(25):
        SHARED_TOKEN_CACHE.clear()  # every call fetches a new token with a new assertion
        tokens.add(hook.tokens.get_token().value)
        hook.request("GET", "/units", params={"limit": 1})
    assert len(tokens) == 25
    assert len(_secrets_masker().patterns) == patterns  # the cost of one more token does not grow
    for token in tokens:  # the provider's own redaction knows each of them, and every fragment
        assert redact.redact(f"echo {token} and {token[-20:]}") == "echo *** and ***"


def test_a_token_handed_to_the_callers_code_is_masked_in_task_logs(sandbox):
    from airflow.sdk._shared.secrets_masker import redact as airflow_redact

    token = RegionHallandHook(retry=FAST_RETRY).get_token()
    assert airflow_redact(token) == "***"
