"""The test OpenID Provider (tests/oidc.py + tests/oidc_server) does what the hook tests rely on.

The client here is written out by hand (httpx + joserfc) so the fixture is proven independently
of the provider's own hook.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError
from joserfc.jwk import ECKey, RSAKey

from tests.oidc import (
    DEFAULT_CLIENT_ID,
    ClientSpec,
    OidcServer,
    ResourceSpec,
    cert_thumbprint,
    public_jwk,
    start_oidc_server,
)
from tests.pki import TestCert, make_cert

pytestmark = pytest.mark.integration

HSA = "https://hsainfo.example.se"
ANNAT = "https://annat.example.se"
SHORT = "https://short.example.se"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def client_assertion(
    cert: TestCert,
    client_id: str,
    aud: str | list[str],
    *,
    kid: str | None = None,
    jti: str | None = None,
) -> str:
    """An RFC 7523 private_key_jwt assertion, AD FS style: header ``x5t``, ``kid`` only if asked."""
    now = int(time.time())
    key: RSAKey | ECKey
    if isinstance(cert.key, rsa.RSAPrivateKey):
        key, alg = RSAKey.import_key(cert.key), "RS256"
    else:
        key, alg = ECKey.import_key(cert.key), "ES256"
    header: dict[str, Any] = {"alg": alg, "typ": "JWT", "x5t": cert_thumbprint(cert)}
    if kid is not None:
        header["kid"] = kid
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "jti": jti or str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    return jwt.encode(header, claims, key)


def request_token(
    token_endpoint: str,
    client_id: str,
    assertion: str,
    *,
    resource: str | None = HSA,
    scope: str | None = "hsainfoapi.read",
) -> httpx.Response:
    data = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    if resource is not None:
        data["resource"] = resource
    if scope is not None:
        data["scope"] = scope
    return httpx.post(token_endpoint, data=data, timeout=10)


def fetch(
    server: OidcServer,
    resource: str | None = HSA,
    scope: str | None = "hsainfoapi.read",
    *,
    aud: str | list[str] | None = None,
    cert: TestCert | None = None,
    kid: str | None = None,
) -> httpx.Response:
    assertion = client_assertion(cert or server.cert, server.client_id, aud or server.token_endpoint, kid=kid)
    return request_token(server.token_endpoint, server.client_id, assertion, resource=resource, scope=scope)


def test_discovery_advertises_private_key_jwt_on_loopback(oidc_server: OidcServer) -> None:
    metadata = httpx.get(f"{oidc_server.issuer}/.well-known/openid-configuration", timeout=10).json()
    assert oidc_server.issuer.startswith("http://127.0.0.1:")
    assert metadata["token_endpoint"] == oidc_server.token_endpoint == f"{oidc_server.issuer}/token"
    assert metadata["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert "RS256" in metadata["token_endpoint_auth_signing_alg_values_supported"]
    assert "client_credentials" in metadata["grant_types_supported"]
    assert oidc_server.resources == {
        HSA: ["hsainfoapi.read"],
        ANNAT: ["annatapi.read"],
        SHORT: ["short.read"],
    }


def test_registered_jwk_has_x5c_and_thumbprint_kid(oidc_server: OidcServer) -> None:
    jwk = public_jwk(oidc_server.cert)
    assert jwk["kty"] == "RSA"
    assert jwk["alg"] == "RS256"
    assert jwk["use"] == "sig"
    assert jwk["x5c"] == [oidc_server.cert.public_jwk_x5c]
    assert jwk["kid"] == jwk["x5t"] == cert_thumbprint(oidc_server.cert)
    assert "d" not in jwk


def test_x5t_only_assertion_gets_jwt_for_the_resource(oidc_server: OidcServer) -> None:
    before = len(oidc_server.token_events())
    response = fetch(oidc_server)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "hsainfoapi.read"
    assert "refresh_token" not in body

    claims = oidc_server.verify_access_token(body["access_token"], audience=HSA)
    assert claims["aud"] == HSA
    assert claims["iss"] == oidc_server.issuer
    assert claims["client_id"] == claims["sub"] == oidc_server.client_id
    assert claims["scope"] == "hsainfoapi.read"
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.decode(body["access_token"], oidc_server.jwks()).header["typ"] == "at+jwt"

    events = oidc_server.wait_for_token_events(before + 1)
    assert events[before:] == [(oidc_server.client_id, HSA)]


def test_second_resource_gets_its_own_audience(oidc_server: OidcServer) -> None:
    before = len(oidc_server.token_events())
    first = fetch(oidc_server, HSA, "hsainfoapi.read")
    second = fetch(oidc_server, ANNAT, "annatapi.read")
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    assert oidc_server.verify_access_token(first.json()["access_token"])["aud"] == HSA
    claims = oidc_server.verify_access_token(second.json()["access_token"], audience=ANNAT)
    assert claims["scope"] == "annatapi.read"
    with pytest.raises(InvalidClaimError):
        oidc_server.verify_access_token(second.json()["access_token"], audience=HSA)
    events = oidc_server.wait_for_token_events(before + 2)
    assert events[before:] == [(oidc_server.client_id, HSA), (oidc_server.client_id, ANNAT)]


@pytest.mark.parametrize("which", ["token_endpoint", "issuer", "list_with_issuer"])
def test_assertion_audience_may_be_issuer_or_token_endpoint(oidc_server: OidcServer, which: str) -> None:
    choices: dict[str, str | list[str]] = {
        "token_endpoint": oidc_server.token_endpoint,
        "issuer": oidc_server.issuer,
        "list_with_issuer": ["https://elsewhere.example.se", oidc_server.issuer],
    }
    aud = choices[which]
    response = fetch(oidc_server, aud=aud)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("suffix", ["/", "/token/"])
def test_assertion_audience_is_compared_exactly(oidc_server: OidcServer, suffix: str) -> None:
    response = fetch(oidc_server, aud=oidc_server.issuer + suffix)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_kid_matching_the_registered_key_is_accepted(oidc_server: OidcServer) -> None:
    response = fetch(oidc_server, kid=cert_thumbprint(oidc_server.cert))
    assert response.status_code == 200, response.text


def test_kid_matching_no_registered_key_is_invalid_client(oidc_server: OidcServer) -> None:
    response = fetch(oidc_server, kid="not-a-registered-kid")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unknown_resource_is_invalid_target(oidc_server: OidcServer) -> None:
    response = fetch(oidc_server, "https://unknown.example.se")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


@pytest.mark.parametrize("resource", ["hsainfoapi.regionhalland.se", f"{HSA}/"])
def test_resource_must_be_the_exact_absolute_uri(oidc_server: OidcServer, resource: str) -> None:
    # oidc-provider follows RFC 8707: a bare name (as AD FS takes) is not a resource indicator.
    response = fetch(oidc_server, resource)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_scope_not_granted_for_the_resource_is_invalid_scope(oidc_server: OidcServer) -> None:
    response = fetch(oidc_server, HSA, "annatapi.read")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_no_scope_gives_a_token_without_scope(oidc_server: OidcServer) -> None:
    response = fetch(oidc_server, HSA, None)
    assert response.status_code == 200, response.text
    assert "scope" not in response.json()
    claims = oidc_server.verify_access_token(response.json()["access_token"], audience=HSA)
    assert "scope" not in claims


def test_no_resource_gives_an_opaque_token_without_audience(oidc_server: OidcServer) -> None:
    before = len(oidc_server.token_events())
    response = fetch(oidc_server, None, "hsainfoapi.read")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["access_token"].count(".") == 0  # opaque, not a JWT
    assert body["expires_in"] == 600  # oidc-provider's ClientCredentials default
    assert "scope" not in body  # resource scopes are dropped without a resource
    events = oidc_server.wait_for_token_events(before + 1)
    assert events[before:] == [(oidc_server.client_id, "-")]


def test_wrong_key_is_invalid_client(oidc_server: OidcServer) -> None:
    errors_before = len(oidc_server.token_errors())
    events_before = len(oidc_server.token_events())
    response = fetch(oidc_server, cert=make_cert())
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    errors = oidc_server.wait_for_token_errors(errors_before + 1)
    assert errors[errors_before:] == [("invalid_client", oidc_server.client_id)]
    assert len(oidc_server.token_events()) == events_before


def test_replayed_assertion_is_invalid_client(oidc_server: OidcServer) -> None:
    assertion = client_assertion(oidc_server.cert, oidc_server.client_id, oidc_server.token_endpoint)
    first = request_token(oidc_server.token_endpoint, oidc_server.client_id, assertion)
    again = request_token(oidc_server.token_endpoint, oidc_server.client_id, assertion)
    assert first.status_code == 200, first.text
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_client"


def test_short_lived_resource_token_expires(oidc_server: OidcServer) -> None:
    response = fetch(oidc_server, SHORT, "short.read")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["expires_in"] <= 2
    token = body["access_token"]
    claims = oidc_server.verify_access_token(token, audience=SHORT, verify_exp=False)
    assert claims["exp"] - claims["iat"] == 2
    deadline = time.monotonic() + 60  # a safety bound; the token expires after 2 s
    while time.time() <= claims["exp"] and time.monotonic() < deadline:
        time.sleep(0.2)
    with pytest.raises(ExpiredTokenError):
        oidc_server.verify_access_token(token)


def test_custom_server_adfs_like_paths_and_client_restrictions(tmp_path: Path) -> None:
    restricted_id = "0a9f8e7d-6c5b-4a39-8271-605f4e3d2c1b"
    ec_id = "11111111-2222-4333-8444-555555555555"
    restricted = ClientSpec(restricted_id, make_cert(), resources=[HSA], kid=None)
    ec_client = ClientSpec(ec_id, make_cert(key_type="ec"))
    resources = [ResourceSpec(HSA, ["hsainfoapi.read", "hsainfoapi.write"], 60), ResourceSpec(ANNAT, ["x"])]
    with start_oidc_server(
        tmp_path,
        resources=resources,
        clients=[restricted, ec_client],
        issuer_path="/adfs",
        token_path="/oauth2/token/",
        require_resource=True,
    ) as server:
        assert server.issuer.endswith("/adfs")
        assert server.token_endpoint == f"{server.issuer}/oauth2/token/"
        assert server.client_id == restricted_id
        assert set(server.clients) == {restricted_id, ec_id}

        def post(client: ClientSpec, resource: str | None, scope: str) -> httpx.Response:
            assertion = client_assertion(client.cert, client.client_id, server.token_endpoint)
            return request_token(
                server.token_endpoint, client.client_id, assertion, resource=resource, scope=scope
            )

        ok = post(restricted, HSA, "hsainfoapi.read hsainfoapi.write")
        assert ok.status_code == 200, ok.text
        assert ok.json()["expires_in"] == 60
        claims = server.verify_access_token(ok.json()["access_token"], audience=HSA)
        assert claims["scope"] == "hsainfoapi.read hsainfoapi.write"

        not_allowed = post(restricted, ANNAT, "x")
        assert not_allowed.status_code == 400
        assert not_allowed.json()["error"] == "invalid_target"

        missing = post(restricted, None, "hsainfoapi.read")
        assert missing.status_code == 400
        assert missing.json()["error"] == "invalid_target"

        ec_ok = post(ec_client, ANNAT, "x")
        assert ec_ok.status_code == 200, ec_ok.text

        assert server.wait_for_token_events(2) == [(restricted_id, HSA), (ec_id, ANNAT)]
        assert server.wait_for_token_errors(2) == [
            ("invalid_target", restricted_id),
            ("invalid_target", restricted_id),
        ]
    # Stopped: the port no longer answers.
    with pytest.raises(httpx.TransportError):
        httpx.get(server.jwks_uri, timeout=2)


def test_default_client_id_is_guid_like(oidc_server: OidcServer) -> None:
    assert oidc_server.client_id == DEFAULT_CLIENT_ID
    assert str(uuid.UUID(DEFAULT_CLIENT_ID)) == DEFAULT_CLIENT_ID
