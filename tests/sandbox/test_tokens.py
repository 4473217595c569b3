"""The AD FS double refuses every broken client assertion the way AD FS does, and accepts a right one."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from airflow_provider_rh.sandbox import Sandbox

from .helpers import ANNAT, HSAINFO, Caller, new_key_and_cert

pytestmark = pytest.mark.integration


def assert_refused(response: httpx.Response, status: int, error: str, code: str | None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    if code is not None:
        assert body["error_description"].startswith(f"{code}:"), body["error_description"]


def test_discovery_names_the_token_endpoint_with_its_trailing_slash(sb: Sandbox, http: httpx.Client) -> None:
    doc = http.get(f"{sb.issuer}/.well-known/openid-configuration").json()
    assert doc["issuer"] == sb.issuer == f"{sb.url}/adfs"
    assert doc["token_endpoint"] == sb.token_url == f"{sb.url}/adfs/oauth2/token/"
    assert doc["jwks_uri"] == f"{sb.url}/adfs/discovery/keys"
    assert "client_credentials" in doc["grant_types_supported"]
    assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]


def test_a_right_request_gets_an_access_token_for_the_resource(caller: Caller, sb: Sandbox) -> None:
    response = caller.token_request(scope="hsainfoapi.read")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["resource"] == HSAINFO
    assert body["scope"] == "hsainfoapi.read"
    keys = KeySet.import_key_set(caller.http.get(f"{sb.issuer}/discovery/keys").json())
    token = jwt.decode(body["access_token"], keys, algorithms=["RS256"])
    claims = token.claims
    assert token.header["alg"] == "RS256"
    assert claims["aud"] == HSAINFO
    assert claims["iss"] == sb.issuer
    assert claims["appid"] == claims["client_id"] == sb.client_id
    assert claims["scp"] == claims["scope"] == "hsainfoapi.read"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["nbf"] <= time.time() + 1


def test_scopes_are_cut_to_those_granted(caller: Caller) -> None:
    response = caller.token_request(scope="hsainfoapi.read hsainfoapi.write openid")

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "hsainfoapi.read"


def test_no_scope_gets_every_granted_scope(caller: Caller) -> None:
    assert caller.token_request(scope=None).json()["scope"] == "hsainfoapi.read"


def test_only_unknown_scopes_is_invalid_scope(caller: Caller) -> None:
    assert_refused(caller.token_request(scope="nope.read"), 400, "invalid_scope", None)


def test_one_token_per_resource(caller: Caller) -> None:
    body = caller.token_request(resource=ANNAT, scope="annatapi.read").json()

    assert body["resource"] == ANNAT
    assert jwt.decode(body["access_token"], caller.sb.ctx.signing_key).claims["aud"] == ANNAT


def test_clock_skew_within_tolerance_is_accepted(caller: Caller) -> None:
    assertion = caller.assertion(exp_in=-30, iat_offset=30, nbf_offset=30)

    assert caller.token_request(assertion=assertion).status_code == 200


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param({"with_x5t": False}, "no 'x5t'", id="missing-x5t"),
        pytest.param({"aud": "WRONG"}, "'aud'", id="aud-not-token-url"),
        pytest.param({"aud": "TOKEN_URL_WITHOUT_SLASH"}, "'aud'", id="aud-without-trailing-slash"),
        pytest.param({"aud": "ISSUER"}, "'aud'", id="aud-issuer"),
        pytest.param({"exp_in": -120}, "expired", id="expired"),
        pytest.param({"exp_in": 3600}, "more than 600 s ahead", id="exp-too-far-ahead"),
        pytest.param({"nbf_offset": 300}, "'nbf' is in the future", id="nbf-in-future"),
        pytest.param({"iat_offset": 300}, "'iat' is in the future", id="iat-in-future"),
    ],
)
def test_a_broken_assertion_is_invalid_client(
    caller: Caller, sb: Sandbox, change: dict[str, object], reason: str
) -> None:
    audiences = {"WRONG": "https://example.org/token", "TOKEN_URL_WITHOUT_SLASH": sb.token_url.rstrip("/")}
    audiences["ISSUER"] = sb.issuer
    if "aud" in change:
        change = {**change, "aud": audiences[str(change["aud"])]}
    assertion = caller.assertion(**change)  # type: ignore[arg-type]

    response = caller.token_request(assertion=assertion)

    assert_refused(response, 400, "invalid_client", "MSIS9622")
    assert reason in response.json()["error_description"]


def test_a_reused_jti_is_refused(caller: Caller) -> None:
    jti = str(uuid.uuid4())
    assert caller.token_request(assertion=caller.assertion(jti=jti)).status_code == 200

    again = caller.token_request(assertion=caller.assertion(jti=jti))

    assert_refused(again, 400, "invalid_client", "MSIS9622")
    assert "jti" in again.json()["error_description"]


def test_an_assertion_signed_by_another_key_is_refused(caller: Caller) -> None:
    other_key, _ = new_key_and_cert()
    assertion = caller.assertion(key_pem=other_key)  # x5t still names the registered certificate

    response = caller.token_request(assertion=assertion)

    assert_refused(response, 400, "invalid_client", "MSIS9622")
    assert "signature" in response.json()["error_description"]


def test_an_x5t_of_an_unregistered_certificate_is_refused(caller: Caller) -> None:
    key, cert = new_key_and_cert()

    response = caller.token_request(assertion=caller.assertion(key_pem=key, cert_pem=cert))

    assert_refused(response, 400, "invalid_client", "MSIS9622")
    assert "matches no certificate" in response.json()["error_description"]


def test_an_unknown_client_is_refused(caller: Caller) -> None:
    stranger = str(uuid.uuid4())

    response = caller.token_request(client_id=stranger)

    assert_refused(response, 400, "invalid_client", "MSIS9622")
    assert "no client is registered" in response.json()["error_description"]


def test_client_id_must_match_the_assertion(caller: Caller) -> None:
    response = caller.http.post(
        caller.sb.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": str(uuid.uuid4()),
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": caller.assertion(),
            "resource": HSAINFO,
        },
    )
    assert_refused(response, 400, "invalid_client", "MSIS9622")


def test_missing_resource_is_msis9601(caller: Caller) -> None:
    assert_refused(caller.token_request(resource=None), 400, "invalid_request", "MSIS9601")


def test_unknown_resource_is_msis9602(caller: Caller) -> None:
    assert_refused(caller.token_request(resource="nope.regionhalland.se"), 400, "invalid_request", "MSIS9602")


def test_a_uri_resource_is_not_a_relying_party(caller: Caller) -> None:
    response = caller.token_request(resource=f"https://{HSAINFO}/")

    assert_refused(response, 400, "invalid_request", "MSIS9329")


def test_a_client_not_allowed_for_the_resource_is_msis9321(caller: Caller, sb: Sandbox) -> None:
    key, cert = new_key_and_cert("second.example.se")
    second = sb.register_client(cert, name="second.example.se")
    sb.register_resource("egenapi.regionhalland.se", ["egenapi.read"], allowed_clients=[second])
    assertion = caller.assertion(client_id=second, key_pem=key, cert_pem=cert)

    refused = caller.token_request(client_id=second, assertion=assertion)
    allowed = caller.token_request(
        client_id=second,
        assertion=caller.assertion(client_id=second, key_pem=key, cert_pem=cert),
        resource="egenapi.regionhalland.se",
        scope="egenapi.read",
    )

    assert_refused(refused, 400, "unauthorized_client", "MSIS9321")
    assert allowed.status_code == 200, allowed.text


def test_wrong_grant_type_is_unsupported(caller: Caller) -> None:
    assert_refused(caller.token_request(grant_type="password"), 400, "unsupported_grant_type", None)


def test_a_client_secret_is_not_a_certificate(caller: Caller) -> None:
    response = caller.http.post(
        caller.sb.token_url,
        data={"grant_type": "client_credentials", "client_id": caller.sb.client_id, "client_secret": "x"},
    )
    assert_refused(response, 400, "invalid_client", "MSIS9622")


def test_a_json_body_is_refused(caller: Caller) -> None:
    response = caller.http.post(caller.sb.token_url, json={"grant_type": "client_credentials"})

    assert_refused(response, 400, "invalid_request", None)


def test_stats_count_token_requests(caller: Caller, sb: Sandbox) -> None:
    before_requests, before_issued = sb.stats.token_requests, sb.stats.tokens_issued

    caller.token()
    caller.token_request(resource=None)

    assert sb.stats.token_requests == before_requests + 2
    assert sb.stats.tokens_issued == before_issued + 1
