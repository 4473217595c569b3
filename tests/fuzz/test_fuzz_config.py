"""Property of connection parsing: any JSON extra gives a ClientConfig or a ConfigurationError
naming a field, never another exception (issue 14, "Also required")."""

from __future__ import annotations

import json
import warnings

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.fields import EXTRA_LABELS
from airflow_provider_rh.exceptions import ConfigurationError

pytestmark = pytest.mark.fuzz

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=60),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
keys = st.sampled_from([*EXTRA_LABELS, "token_url", "extra__regionhalland__timeout", "scope"]) | st.text(
    max_size=12
)
urls = st.sampled_from(["https://adfs.example.se/adfs/oauth2/token/", "https://adfs.example.se", "http://x"])


def parse(extra: object, port: object = None) -> None:
    error: ConfigurationError | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            config = ClientConfig.from_connection_fields(
                host="https://api.example.se/v1",
                login="client-guid",
                password="sub-key-123",
                extra=extra,  # type: ignore[arg-type]
                port=port,  # type: ignore[arg-type]
            )
        except ConfigurationError as exc:  # anything else fails the test
            error = exc
    if error is not None:
        assert isinstance(error.field, str)
        assert error.field  # a field the user can find
        assert "\n" not in str(error)
        return
    assert isinstance(config, ClientConfig)
    assert isinstance(config.timeout, float)
    assert 0 < config.timeout <= 3600
    assert config.subscription_key_header.lower() not in ("authorization", "content-type", "host")


@given(extra=st.dictionaries(keys, json_values, max_size=6), auth_url=urls)
@example(extra={"": []}, auth_url="https://adfs.example.se/adfs/oauth2/token/")  # found by fuzzing
@example(extra={"timeout": True}, auth_url="https://adfs.example.se/adfs/oauth2/token/")
@example(extra={"timeout": 10**400}, auth_url="https://adfs.example.se/adfs/oauth2/token/")
@example(extra={"verify": "\x00"}, auth_url="https://adfs.example.se/adfs/oauth2/token/")
@example(
    extra={"subscription_key_header": "Authorization"}, auth_url="https://adfs.example.se/adfs/oauth2/token/"
)
def test_any_json_extra_is_a_config_or_a_configuration_error_naming_a_field(extra, auth_url):
    parse({"auth_url": auth_url, **extra})


@given(extra=st.dictionaries(keys, json_values, max_size=6))
def test_the_same_as_stored_json_text(extra):
    parse(json.dumps(extra, allow_nan=True))


@given(text=st.text(max_size=400))
@example(text="[" * 100_000)
@example(text='{"timeout": 1e999}')
def test_any_extra_text_is_a_config_or_a_configuration_error(text):
    parse(text)


@given(port=st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=5))
def test_any_port(port):
    parse({"auth_url": "https://adfs.example.se/adfs/oauth2/token/"}, port=port)
