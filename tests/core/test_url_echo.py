"""A bad URL is echoed as the user typed it (cut to a readable length), never as a rebuilt form."""

from __future__ import annotations

import pytest

from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.urls import shown
from airflow_provider_rh.exceptions import ConfigurationError


@pytest.mark.parametrize("typed", ["not a url", "api.example.se/hsainfo/v1", "/hsainfo/v1"])
def test_what_was_typed_is_what_is_shown(typed):
    assert shown(typed) == typed


def test_a_long_value_is_cut():
    assert shown("x" * 500) == "x" * 100 + "..."


def test_credentials_and_query_are_still_left_out():
    assert shown("user:secret@host/path?key=value") == "...@host/path"
    assert shown("https://user:secret@api.example.se/v1?key=1") == "https://api.example.se/v1"


@pytest.mark.parametrize("field", ["auth_url", "host"])
def test_a_connection_field_is_echoed_as_typed(field):
    extra = {"auth_url": "https://adfs.example.se/adfs/oauth2/token/"}
    host = "https://api.example.se/v1"
    if field == "host":
        host = "not a url"
    else:
        extra["auth_url"] = "not a url"
    with pytest.raises(ConfigurationError) as caught:
        ClientConfig.from_connection_fields(host=host, login="c", password="k", extra=extra)
    assert "got 'not a url'" in str(caught.value)
    assert "://not a url" not in str(caught.value)
