"""Parsing the connection into a ClientConfig."""

from __future__ import annotations

import pytest

from airflow_provider_rh.core.config import ClientConfig, connection_secrets
from airflow_provider_rh.exceptions import ConfigurationError

BASE = {"auth_url": "https://adfs.example.se/adfs/oauth2/token/", "resource": "hsainfoapi.regionhalland.se"}


def make(extra=None, **fields):
    values = {"host": "https://api.example.se/hsainfo/v1/", "login": "client-guid", "password": "sub-key"}
    values.update(fields)
    return ClientConfig.from_connection_fields(extra={**BASE, **(extra or {})}, **values)


def test_defaults_and_normalisation():
    cfg = make({"scopes": "a.read  b.read"})
    assert cfg.base_url == "https://api.example.se/hsainfo/v1"
    assert cfg.client_id == "client-guid"
    assert cfg.subscription_key_header == "Ocp-Apim-Subscription-Key"
    assert cfg.assertion_header == ("x5t",)
    assert cfg.scopes == "a.read b.read"
    assert cfg.verify is True
    assert cfg.timeout == 30.0


def test_airflow_form_prefixed_extras_are_understood():
    cfg = ClientConfig.from_connection_fields(
        host="api.example.se",
        login="c",
        password=None,
        extra={
            "extra__regionhalland__auth_url": "https://t.example.se/token/",
            "extra__regionhalland__timeout": "5",
        },
    )
    assert cfg.auth_url == "https://t.example.se/token/"
    assert cfg.timeout == 5.0
    assert cfg.base_url == "https://api.example.se"


def test_unknown_extra_lists_the_known_ones():
    with pytest.raises(ConfigurationError, match="Unknown connection extra") as info:
        make({"scope": "typo.read"})
    assert info.value.field == "scope"
    assert "scopes" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"login": ""}, "login"),
        ({"extra": {"auth_url": None}}, "auth_url"),
        ({"extra": {"auth_url": "ftp://x/"}}, "auth_url"),
        ({"extra": {"timeout": "fast"}}, "timeout"),
        ({"extra": {"timeout": -1}}, "timeout"),
        ({"extra": {"verify": "/nonexistent/ca.pem"}}, "verify"),
        ({"extra": {"assertion_header": "x5c"}}, "assertion_header"),
        ({"host": "ftp://files.example.se"}, "host"),
    ],
)
def test_bad_fields_are_named(kwargs, field):
    extra = kwargs.pop("extra", None)
    with pytest.raises(ConfigurationError) as info:
        make(extra, **kwargs)
    assert info.value.field == field


def test_issuer_instead_of_auth_url():
    cfg = make({"auth_url": None, "issuer": "https://adfs.example.se/adfs"})
    assert cfg.auth_url is None
    assert cfg.issuer == "https://adfs.example.se/adfs"


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("TRUE", True), (False, False)])
def test_verify_values(value, expected):
    assert make({"verify": value}).verify is expected


def test_repr_has_no_secrets():
    extra = {"private_key": "-----BEGIN PRIVATE KEY-----abc", "private_key_passphrase": "pp-secret"}
    text = repr(make(extra))
    for secret in ("sub-key", "pp-secret", "BEGIN PRIVATE KEY"):
        assert secret not in text
    assert set(connection_secrets("sub-key", extra)) == {
        "sub-key",
        "-----BEGIN PRIVATE KEY-----abc",
        "pp-secret",
    }


def test_connection_secrets_include_form_prefixed_extras():
    extra = {"extra__regionhalland__private_key_passphrase": "pp-secret", "auth_url": "https://t/"}
    assert connection_secrets(None, extra) == ["pp-secret"]
