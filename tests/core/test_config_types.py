"""Connection extras checked by type and range when the connection is loaded (issue 14, class 7)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.exceptions import ConfigurationError

TOKEN_URL = "https://adfs.example.se/adfs/oauth2/token/"


def load(port: int | None = None, **extra: Any) -> ClientConfig:
    return ClientConfig.from_connection_fields(
        host="https://api.example.se/v1",
        login="client-guid",
        password="sub-key-123",
        extra={"auth_url": TOKEN_URL, **extra},
        port=port,
    )


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"timeout": True}, "timeout", "Timeout (seconds) (extra.timeout) must be a number of seconds"),
        ({"timeout": [30]}, "timeout", "got a list"),
        ({"verify": 0}, "verify", "got a number"),
        ({"allow_insecure_http": 1}, "allow_insecure_http", "must be true or false"),
        ({"resource": 123}, "resource", "must be text (a JSON string in quotes), got a number"),
        ({"resource": "annatapi\x00.regionhalland.se"}, "resource", "without spaces or control"),
        ({"resource": "a b"}, "resource", "a space at position 2"),
        ({"scopes": "annatapi.read\nannatapi.write"}, "scopes", "\\n at position 14"),
        ({"scopes": {"a": 1}}, "scopes", "got an object"),
        ({"subscription_key_header": "Authorization"}, "subscription_key_header", "sets itself"),
        ({"subscription_key_header": "content-type"}, "subscription_key_header", "sets itself"),
        ({"subscription_key_header": "HOST"}, "subscription_key_header", "sets itself"),
        ({"subscription_key_header": "Key(1)"}, "subscription_key_header", "not an HTTP header name"),
        ({"private_key_passphrase": 1234}, "private_key_passphrase", "got a number"),
        ({"certificate": True}, "certificate", "got true"),
        ({"auth_url": ["https://x"]}, "auth_url", "got a list"),
        ({"assertion_header": 5}, "assertion_header", "got a number"),
    ],
)
def test_a_wrong_type_or_value_is_refused_naming_the_field(extra, field, words):
    with pytest.raises(ConfigurationError) as info:
        load(**extra)
    assert info.value.field == field
    assert words in str(info.value)


def test_a_secret_of_the_wrong_type_is_not_echoed():
    with pytest.raises(ConfigurationError) as info:
        load(private_key_passphrase=987654321)
    assert "987654321" not in str(info.value)


@pytest.mark.parametrize("port", [0, 70000, True, -1])
def test_a_port_out_of_range_is_refused(port):
    with pytest.raises(ConfigurationError) as info:
        load(port=port)
    assert info.value.field == "port"


def test_good_values_keep_working():
    cfg = load(
        timeout="12.5",
        scopes=["annatapi.read", "annatapi.write"],
        assertion_header=["x5t", "kid"],
        subscription_key_header="X-Api-Key",
        allow_insecure_http="false",
        verify=False,
    )
    assert cfg.timeout == 12.5
    assert cfg.scopes == "annatapi.read annatapi.write"
    assert cfg.assertion_header == ("x5t", "kid")
    assert cfg.subscription_key_header == "X-Api-Key"
    assert load(timeout=7).timeout == 7.0
