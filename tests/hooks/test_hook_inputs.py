"""The hook reads the connection as Airflow stores it: raw extra text, the deprecated token_url."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_rh.core.config import DeprecatedFieldWarning
from airflow_provider_rh.exceptions import ConfigurationError
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook

TOKEN = "https://adfs.example.se/adfs/oauth2/token/"


def set_connection(monkeypatch: pytest.MonkeyPatch, extra: object) -> None:
    conn = {
        "conn_type": "regionhalland",
        "host": "https://api.example.se/v1",
        "login": "client-guid",
        "password": "sub-key-for-hook-tests",
        "extra": extra,
    }
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", json.dumps(conn))


def test_extra_that_is_not_json_is_reported_as_such(monkeypatch):
    set_connection(
        monkeypatch, '{"auth_url": "' + TOKEN + '", "private_key": "-----BEGIN PRIVATE KEY-----\nAB"'
    )
    with pytest.raises(ConfigurationError) as info:
        RegionHallandHook().config  # noqa: B018 - the property parses
    assert info.value.field == "extra"
    assert "Extra (extra) is not valid JSON" in str(info.value)
    assert "Token endpoint" not in str(info.value)  # not mistaken for a missing token endpoint
    ok, message = RegionHallandHook().test_connection()
    assert not ok
    assert message.startswith("configuration check failed: Extra (extra) is not valid JSON")


def test_the_old_token_url_works_and_the_log_says_to_rename_it(monkeypatch, caplog):
    set_connection(monkeypatch, {"token_url": TOKEN, "resource": "r"})
    with (
        pytest.warns(DeprecatedFieldWarning, match="rename it to 'auth_url'"),
        caplog.at_level(logging.WARNING),
    ):
        config = RegionHallandHook().config
    assert config.auth_url == TOKEN
    assert any("rename it to 'auth_url'" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("argument", "value", "said"),
    [
        ("resource", "hsainfoapi.regionhalland.se\nX-Injected: 1", "resource"),
        ("resource", ["a", "b"], "resource"),
        ("scopes", "read\r\nX-Injected: 1", "scopes"),
    ],
)
def test_a_rendered_resource_or_scope_is_checked_before_anything_is_sent(monkeypatch, argument, value, said):
    """A templated argument ("{{ params.resource }}") is checked at parse time for its type only."""
    set_connection(monkeypatch, {"auth_url": TOKEN, "resource": "r"})
    hook = RegionHallandHook()
    with pytest.raises(ConfigurationError) as info:
        hook.request("GET", "/units", **{argument: value})
    assert info.value.field == said
    assert said in str(info.value)
