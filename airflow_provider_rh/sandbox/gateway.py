"""The API Management double in front of the API: subscription key first, then a bearer token.

Like Azure API Management it strips the subscription key before the request reaches the API,
so the API's own next-page links never carry it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

from joserfc import jwt
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from airflow_provider_rh.sandbox.config import SUBSCRIPTION_KEY_QUERY
from airflow_provider_rh.sandbox.context import Context

MISSING_KEY = (
    "Access denied due to missing subscription key. "
    "Make sure to include subscription key when making requests to an API."
)
INVALID_KEY = (
    "Access denied due to invalid subscription key. "
    "Make sure to provide a valid key for an active subscription."
)
UNAUTHORIZED = "Unauthorized. Access token is missing or invalid."
_UNIT_ID = re.compile(r"^/units/[^/]+$")
_LIST_ROUTES = {"/units/link", "/units/cursor", "/units/offset", "/units/pages", "/units/odata"}


def route_key(path: str) -> str:
    """The route template a path (relative to the API base) belongs to, for :class:`.Stats`."""
    return "/units/{id}" if _UNIT_ID.match(path) and path not in _LIST_ROUTES else path


class Gateway:
    """ASGI middleware refusing like APIM unless the key and a token for ``ctx.api_resource`` are right."""

    def __init__(self, app: ASGIApp, *, ctx: Context) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root = scope.get("root_path", "")
        path: str = scope["path"]
        self.ctx.stats.count_route(route_key(path[len(root) :] if path.startswith(root) else path))
        request = Request(scope)
        header = self.ctx.config.subscription_key_header
        key = request.headers.get(header) or request.query_params.get(SUBSCRIPTION_KEY_QUERY)
        if not key or not self.ctx.registry.has_subscription_key(key):
            message = INVALID_KEY if key else MISSING_KEY
            await JSONResponse({"statusCode": 401, "message": message}, 401)(scope, receive, send)
            return
        problem = self._token_problem(request.headers.get("authorization"))
        if problem is not None:
            await JSONResponse(
                {"statusCode": 401, "message": UNAUTHORIZED}, 401, {"WWW-Authenticate": problem}
            )(scope, receive, send)
            return
        await self.app(_without_key(scope, header), receive, send)

    def _token_problem(self, authorization: str | None) -> str | None:
        """None if the bearer token is good, else the ``WWW-Authenticate`` value to answer with."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "Bearer"
        try:
            claims = jwt.decode(token.strip(), self.ctx.signing_key, algorithms=["RS256"]).claims
        except (JoseError, ValueError):
            return _invalid("signature or format")
        now = self.ctx.now()
        if claims.get("iss") != self.ctx.issuer:
            return _invalid("issuer")
        if claims.get("aud") != self.ctx.api_resource:
            return _invalid("audience")
        exp, nbf = claims.get("exp"), claims.get("nbf", 0)
        if not isinstance(exp, (int, float)) or exp <= now:
            return _invalid("expired")
        if not isinstance(nbf, (int, float)) or nbf > now:
            return _invalid("not yet valid")
        return None


def _invalid(what: str) -> str:
    return f'Bearer error="invalid_token", error_description="{what}"'


def _without_key(scope: Scope, header: str) -> Scope:
    raw_query: bytes = scope.get("query_string", b"")
    query = parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True)
    if any(k == SUBSCRIPTION_KEY_QUERY for k, _ in query):
        raw_query = urlencode([(k, v) for k, v in query if k != SUBSCRIPTION_KEY_QUERY], safe="$").encode()
    headers = [(k, v) for k, v in scope["headers"] if k.decode("latin-1").lower() != header.lower()]
    return {**scope, "query_string": raw_query, "headers": headers}
