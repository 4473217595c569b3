"""The hook against the sandbox, with the connection the sandbox prints: AD FS quirks included."""

from __future__ import annotations

import time

import pytest

from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.exceptions import ApiError, TokenError
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.sandbox import Faults, Sandbox, SandboxConfig
from airflow_provider_rh.sandbox.data import unit

FAST_RETRY = RetryPolicy(attempts=6, backoff_initial=0.01, backoff_max=0.05, retry_after_cap=0.05)


class ShiftedClock:
    """The sandbox's clock, which a test can move ahead without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    SHARED_TOKEN_CACHE.clear()
    yield
    SHARED_TOKEN_CACHE.clear()


@pytest.fixture
def sandbox(tmp_path, monkeypatch, request):
    options = getattr(request, "param", {})
    with Sandbox(SandboxConfig(state_dir=tmp_path / "sb", port=0, unit_count=300, **options)) as sb:
        monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", sb.connection_uri_env())
        yield sb


def test_printed_connection_works_end_to_end(sandbox):
    hook = RegionHallandHook(retry=FAST_RETRY)
    page = hook.request("GET", "/units", params={"limit": 3}).json()
    assert page["items"] == [unit(1), unit(2), unit(3)]
    ok, message = hook.test_connection()
    assert ok, message
    assert "/hsainfo/v1/health answered 200" in message
    assert sandbox.stats.tokens_issued == 1  # one token served the pull and the test


def test_one_token_per_resource_id(sandbox):
    hook = RegionHallandHook(retry=FAST_RETRY)
    hsainfo = hook.get_token()
    annat = hook.get_token(resource="annatapi.regionhalland.se", scopes="annatapi.read")
    assert hsainfo != annat
    assert hook.get_token() == hsainfo
    assert sandbox.stats.tokens_issued == 2


def test_a_token_for_another_resource_is_refused_by_the_gateway(sandbox):
    hook = RegionHallandHook(retry=FAST_RETRY, resource="annatapi.regionhalland.se", scopes="annatapi.read")
    with pytest.raises(ApiError) as info:
        hook.request("GET", "/units/1")
    assert info.value.status_code == 401
    assert "extra.resource" in str(info.value)


def test_unregistered_resource_gets_the_adfs_error_and_a_hint(sandbox):
    with pytest.raises(TokenError) as info:
        RegionHallandHook(retry=FAST_RETRY).get_token(resource="okand.regionhalland.se")
    assert "MSIS9602" in info.value.error_description
    assert "not registered" in info.value.hint


@pytest.mark.parametrize(
    "sandbox",
    [{"faults": Faults(seed=7, rate_limit_share=0.2, server_error_share=0.2, drop_share=0.1, retry_after=1)}],
    indirect=True,
)
def test_429_5xx_and_dropped_connections_are_ridden_out(sandbox):
    hook = RegionHallandHook(retry=FAST_RETRY)
    for i in range(1, 31):
        assert hook.request("GET", f"/units/{i}").json() == unit(i)
    faults = sandbox.stats.faults
    assert faults.get("429", 0) > 0
    assert sum(faults.get(code, 0) for code in ("500", "502", "503", "504")) > 0
    assert faults.get("drop", 0) > 0


@pytest.mark.parametrize("sandbox", [{"faults": Faults(token_outage_requests=2)}], indirect=True)
def test_token_endpoint_down_for_a_while(sandbox):
    assert RegionHallandHook(retry=FAST_RETRY).get_token()
    assert sandbox.stats.token_requests == 3


@pytest.mark.parametrize("sandbox", [{"clock": ShiftedClock(), "token_lifetime": 60}], indirect=True)
def test_token_expiring_mid_run_is_renewed_once_on_401(sandbox):
    hook = RegionHallandHook(retry=FAST_RETRY)
    assert hook.request("GET", "/units/1").json() == unit(1)
    sandbox.ctx.config.clock.offset = 90  # the gateway now sees the 60 s token as expired
    assert hook.request("GET", "/units/2").json() == unit(2)
    assert sandbox.stats.tokens_issued == 2


def test_wrong_subscriber_key_fails_clearly_without_leaking_it(sandbox, monkeypatch):
    import json

    conn = json.loads(sandbox.connection_uri_env())
    conn["password"] = "not-the-right-subscriber-key"
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", json.dumps(conn))
    ok, message = RegionHallandHook(retry=FAST_RETRY).test_connection()
    assert not ok
    assert message.startswith("API call check failed")
    assert "subscriber key" in message
    assert "not-the-right-subscriber-key" not in message
