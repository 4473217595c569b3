"""The API Management double: subscription key first, then a valid token for the API's resource."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from airflow_provider_rh.sandbox import Sandbox

from .helpers import ANNAT, HSAINFO, Caller, FakeClock, new_key_and_cert, start_sandbox

pytestmark = pytest.mark.integration
MISSING = "Access denied due to missing subscription key."
INVALID = "Access denied due to invalid subscription key."
UNAUTHORIZED = {"statusCode": 401, "message": "Unauthorized. Access token is missing or invalid."}


def test_a_key_and_a_token_get_through(caller: Caller) -> None:
    response = caller.api("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_a_missing_subscription_key_is_refused(caller: Caller, sb: Sandbox) -> None:
    response = caller.http.get(f"{sb.base_url}/units", headers={"Authorization": f"Bearer {caller.token()}"})

    assert response.status_code == 401
    assert response.json()["statusCode"] == 401
    assert response.json()["message"].startswith(MISSING)


def test_a_wrong_subscription_key_is_refused(caller: Caller) -> None:
    response = caller.api("/units", key="0" * 32)

    assert response.status_code == 401
    assert response.json()["message"].startswith(INVALID)


def test_the_key_may_come_as_a_query_parameter_and_is_not_echoed_in_links(
    caller: Caller, sb: Sandbox
) -> None:
    response = caller.http.get(
        f"{sb.base_url}/units",
        params={"subscription-key": sb.subscription_key, "limit": 5},
        headers={"Authorization": f"Bearer {caller.token()}"},
    )

    assert response.status_code == 200
    assert sb.subscription_key not in response.json()["next"]


def test_a_missing_token_is_refused_with_www_authenticate(caller: Caller, sb: Sandbox) -> None:
    response = caller.http.get(
        f"{sb.base_url}/units", headers={"Ocp-Apim-Subscription-Key": sb.subscription_key}
    )

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c"])
def test_a_garbage_token_is_refused(caller: Caller, token: str) -> None:
    response = caller.api("/units", token=token)

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_token_for_another_resource_is_refused(caller: Caller) -> None:
    response = caller.api("/units", token=caller.token(resource=ANNAT))

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_a_token_not_signed_by_the_sandbox_is_refused(caller: Caller, sb: Sandbox) -> None:
    forger, _ = new_key_and_cert()
    now = int(time.time())
    claims = {"aud": HSAINFO, "iss": sb.issuer, "iat": now, "nbf": now, "exp": now + 3600}
    forged = jwt.encode({"alg": "RS256"}, claims, RSAKey.import_key(forger))

    assert caller.api("/units", token=forged).status_code == 401


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timed(tmp_path: Path, clock: FakeClock) -> Iterator[Sandbox]:
    sandbox = start_sandbox(tmp_path, clock=clock, token_lifetime=2)
    try:
        yield sandbox
    finally:
        sandbox.stop()


def test_an_expired_token_is_refused(timed: Sandbox, clock: FakeClock, http: httpx.Client) -> None:
    caller = Caller(timed, http)
    token = caller.token()
    assert caller.api("/units", token=token).status_code == 200

    clock.advance(2)
    response = caller.api("/units", token=token)

    assert response.status_code == 401
    assert "expired" in response.headers["WWW-Authenticate"]
    assert caller.api("/units", token=caller.token()).status_code == 200
