"""The AD FS double: discovery, JWKS and the client credentials token endpoint.

The token endpoint enforces what AD FS enforces for ``private_key_jwt`` clients (see
:mod:`.assertion`), then AD FS's resource rules: ``resource`` is required (MSIS9601), must be a
registered bare identifier (MSIS9602; a URI form of one is not a relying party, MSIS9329) that
the client is allowed for (MSIS9321); requested scopes are cut to those granted.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from joserfc import jwt
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from airflow_provider_rh.sandbox import admin
from airflow_provider_rh.sandbox.assertion import (
    JWT_BEARER,
    unverified_header_and_claims,
    verify_client_assertion,
)
from airflow_provider_rh.sandbox.bodies import MAX_TOKEN_BODY, BodyTooLarge, read_body
from airflow_provider_rh.sandbox.context import Context
from airflow_provider_rh.sandbox.errors import AdfsError, invalid_client, invalid_request
from airflow_provider_rh.sandbox.registry import Resource

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# What IIS/HTTP.sys answers while the AD FS service is down: HTML, not JSON.
_OUTAGE_HTML = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n'
    "<HTML><HEAD><TITLE>Service Unavailable</TITLE></HEAD>\r\n"
    "<BODY><h2>Service Unavailable</h2>\r\n<hr><p>HTTP Error 503. The service is unavailable.</p>\r\n"
    "</BODY></HTML>\r\n"
)


def routes(ctx: Context) -> list[Route]:
    """The AD FS routes, bound to ``ctx``."""

    async def discovery(request: Request) -> Response:
        return JSONResponse(discovery_document(ctx))

    async def keys(request: Request) -> Response:
        return JSONResponse({"keys": [jwk(ctx)]})

    async def token(request: Request) -> Response:
        ctx.stats.count("token_requests")
        if ctx.faults.token_outage(ctx.now()):
            ctx.stats.count_fault("token_outage")
            return HTMLResponse(_OUTAGE_HTML, 503)
        try:
            form = _form(request.headers.get("content-type", ""), await read_body(request, MAX_TOKEN_BODY))
            body = issue(ctx, form, now=ctx.now())
        except BodyTooLarge as exc:
            return exc.response()
        except AdfsError as exc:
            return JSONResponse(exc.body(), exc.status, _NO_STORE)
        ctx.stats.count("tokens_issued")
        return JSONResponse(body, headers=_NO_STORE)

    return [
        Route("/adfs/.well-known/openid-configuration", discovery, methods=["GET"]),
        Route("/adfs/discovery/keys", keys, methods=["GET"]),
        Route("/adfs/oauth2/token/", token, methods=["POST"]),
        Route("/adfs/oauth2/token", token, methods=["POST"]),
        # Certificates registered later (a rotation rehearsed): sandbox only, loopback only.
        *admin.routes(ctx),
    ]


def discovery_document(ctx: Context) -> dict[str, Any]:
    """The parts of AD FS's ``openid-configuration`` a client credentials client may read."""
    adfs = ctx.issuer
    return {
        "issuer": adfs,
        "authorization_endpoint": f"{adfs}/oauth2/authorize/",
        "token_endpoint": ctx.token_url,
        "jwks_uri": f"{adfs}/discovery/keys",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "client_secret_basic",
            "private_key_jwt",
            "windows_client_authentication",
        ],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
        ],
        "subject_types_supported": ["pairwise"],
        "scopes_supported": ["openid", "profile", "email", "allatclaims"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "access_token_issuer": adfs,
    }


def jwk(ctx: Context) -> dict[str, Any]:
    """The public token-signing key as a JWK."""
    return {**ctx.signing_key.as_dict(private=False), "kid": ctx.kid, "use": "sig", "alg": "RS256"}


def issue(ctx: Context, form: Mapping[str, str], *, now: float) -> dict[str, Any]:
    """Apply AD FS's rules to a token request; return the token response or raise :class:`AdfsError`."""
    grant_type = form.get("grant_type")
    if not grant_type:
        raise invalid_request("The 'grant_type' parameter is missing.")
    if grant_type != "client_credentials":
        raise AdfsError(
            400, "unsupported_grant_type", f"The grant type '{grant_type}' is not supported here."
        )
    client_id = _authenticate(ctx, form, now=now)
    resource = _resource(ctx, form.get("resource"), client_id)
    granted = resource.grants[client_id]
    requested = form.get("scope", "").split()
    scopes = [s for s in requested if s in granted] if requested else sorted(granted)
    if requested and not scopes:
        raise AdfsError(
            400,
            "invalid_scope",
            f"None of the requested scopes {requested} is granted for '{resource.identifier}'.",
        )
    return {
        "access_token": mint_access_token(
            ctx, client_id=client_id, resource=resource.identifier, scopes=scopes, now=now
        ),
        "token_type": "bearer",
        "expires_in": ctx.config.token_lifetime,
        "resource": resource.identifier,
        "scope": " ".join(scopes),
    }


def mint_access_token(ctx: Context, *, client_id: str, resource: str, scopes: list[str], now: float) -> str:
    """An RS256 access token for ``resource`` signed with the sandbox's key."""
    issued = int(now)
    claims = {
        "aud": resource,
        "iss": ctx.issuer,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ctx.config.token_lifetime,
        "appid": client_id,
        "client_id": client_id,
        "apptype": "Confidential",
        "scp": " ".join(scopes),
        "scope": " ".join(scopes),
        "jti": str(uuid.uuid4()),
        "ver": "1.0",
    }
    return jwt.encode({"alg": "RS256", "kid": ctx.kid}, claims, ctx.signing_key)


def _authenticate(ctx: Context, form: Mapping[str, str], *, now: float) -> str:
    assertion = form.get("client_assertion")
    if form.get("client_secret"):
        raise invalid_client("this client is registered with a certificate; send a client_assertion")
    if not assertion:
        raise invalid_client("no client authentication: send client_assertion (private_key_jwt)")
    if form.get("client_assertion_type") != JWT_BEARER:
        raise invalid_client(f"client_assertion_type must be '{JWT_BEARER}'")
    _, claims = unverified_header_and_claims(assertion)
    client_id = form.get("client_id") or str(claims.get("iss", ""))
    if form.get("client_id") and claims.get("iss") != client_id:
        raise invalid_client("client_id does not match the assertion's 'iss'")
    client = ctx.registry.client(client_id)
    if client is None:
        raise invalid_client(f"no client is registered with client id '{client_id}'")
    verify_client_assertion(
        assertion,
        client=client,
        token_url=ctx.token_url,
        now=now,
        clock_skew=ctx.config.clock_skew,
        max_lifetime=ctx.config.max_assertion_lifetime,
        replay=ctx.replay,
    )
    return client.client_id


def _resource(ctx: Context, identifier: str | None, client_id: str) -> Resource:
    if not identifier:
        raise invalid_request(
            "MSIS9601: The 'resource' parameter is missing. Without it a token would be issued for "
            "'urn:microsoft:userinfo', which no API accepts."
        )
    resource = ctx.registry.resource(identifier)
    if resource is None:
        bare = _bare_name(identifier)
        if bare != identifier and ctx.registry.resource(bare) is not None:
            raise invalid_request(
                f"MSIS9329: The resource '{identifier}' is not a valid relying party. "
                f"Sandbox: identifiers are bare names here, e.g. '{bare}'."
            )
        raise invalid_request(
            f"MSIS9602: The received 'resource' parameter value '{identifier}' "
            "is not a registered identifier."
        )
    if client_id not in resource.grants:
        raise AdfsError(
            400,
            "unauthorized_client",
            f"MSIS9321: The client '{client_id}' is not allowed to access the resource '{identifier}'.",
        )
    return resource


def _bare_name(identifier: str) -> str:
    parts = urlsplit(identifier)
    return (parts.netloc or identifier).rstrip("/") if parts.scheme else identifier


def _form(content_type: str, body: bytes) -> dict[str, str]:
    if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise invalid_request("The token request must be form-encoded (application/x-www-form-urlencoded).")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise invalid_request("The token request body is not valid form encoding.") from exc
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        # RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once."
        raise invalid_request(f"Parameters repeated: {repeated}.")
    return dict(pairs)
