"""Property tests of token responses: any answer of the token endpoint -> an AccessToken that can
be used, or a TokenError; never another exception, never a token that cannot be sent."""

from __future__ import annotations

import json
import math

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_rh.core.tokens import (
    MAX_ACCESS_TOKEN_CHARS,
    MAX_EXPIRES_IN,
    AccessToken,
    TokenKey,
    parse_token_response,
)
from airflow_provider_rh.exceptions import TokenError
from tests.core._seams import TOKEN_URL, make_client
from tests.fuzz._work import outcome

pytestmark = pytest.mark.fuzz

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["3600", "1e400", "nan", "-5", "Bearer", "bearer", "mac", "eyJ.a.b", ""]),
)
json_values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=10,
)
token_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "access_token": st.one_of(scalars, st.text(alphabet="abcXYZ019-._~+/= \n\x00é", max_size=40)),
            "token_type": scalars,
            "expires_in": scalars,
            "scope": scalars,
            "error": scalars,
            "error_description": scalars,
        },
    ),
)


@given(token_bodies)
@example({"access_token": "a" * (MAX_ACCESS_TOKEN_CHARS + 1)})
@example({"access_token": "t", "expires_in": 10**400})
@example({"access_token": "t", "expires_in": True})
def test_any_token_response_is_a_usable_token_or_a_token_error(payload):
    result = outcome(lambda: parse_token_response(payload, obtained_at=5.0))
    assert isinstance(result, AccessToken | TokenError), repr(result)
    if isinstance(result, AccessToken):
        assert 0 < len(result.value) <= MAX_ACCESS_TOKEN_CHARS
        assert all(0x21 <= ord(char) <= 0x7E for char in result.value)
        assert math.isfinite(result.expires_in)
        assert 0 < result.expires_in <= MAX_EXPIRES_IN
        assert result.token_type.lower() == "bearer"
    else:
        assert len(str(result)) < 1000


_CLIENT = make_client(lambda request: httpx.Response(500))
_KEY = TokenKey(TOKEN_URL, "client-guid", "thumb", "res", None)
statuses = st.sampled_from([200, 200, 400, 401, 407, 500])
bodies = st.one_of(
    token_bodies.map(lambda value: json.dumps(value, allow_nan=True).encode()),
    st.binary(max_size=60),
    st.sampled_from([b"[" * 5000, b'{"error": ' + b"[" * 5000, b"\xff\xfe{}"]),
)
content_types = st.sampled_from(["application/json", "text/html; charset=iso-8859-1", "x" * 300, ""])


@given(statuses, bodies, content_types)
def test_any_answer_of_the_token_endpoint_is_a_token_or_a_token_error(status, body, content_type):
    response = httpx.Response(
        status,
        content=body,
        headers={"Content-Type": content_type},
        request=httpx.Request("POST", TOKEN_URL),
    )
    result = outcome(lambda: _CLIENT.tokens.handle_response(response, _KEY, 1.0))
    assert isinstance(result, AccessToken | TokenError), repr(result)
    if isinstance(result, TokenError):
        assert len(str(result)) < 2500  # server text is cut, never echoed whole
        if status == 407:
            assert "proxy" in str(result)
        assert result.error is None or len(result.error) <= 500
