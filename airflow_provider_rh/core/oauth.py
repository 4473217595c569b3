"""OAuth 2.0 client credentials with a certificate-signed client assertion, one token per resource.

The token request is RFC 6749 §4.4 with RFC 7523 client authentication and the ``resource``
parameter AD FS needs (RFC 8707 style), exactly as PLATFORM.md describes. Sync and async share
request building and response handling; only the transport differs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from airflow_provider_rh.core import redact
from airflow_provider_rh.core.assertion import CLIENT_ASSERTION_TYPE, build_client_assertion
from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.credentials import SigningCredentials
from airflow_provider_rh.core.fields import describe
from airflow_provider_rh.core.hints import hint_for
from airflow_provider_rh.core.http import MAX_TOKEN_RESPONSE_BYTES, asend, make_client, send
from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.core.rotation import Rotation, RotationMemory, Signer
from airflow_provider_rh.core.tokens import (
    AccessToken,
    TokenCache,
    TokenKey,
    normalize_scopes,
    parse_token_response,
)
from airflow_provider_rh.core.urls import shown, url_problem
from airflow_provider_rh.exceptions import DiscoveryError, TokenError, TransportError, UnsafeUrlError

log = logging.getLogger(__name__)

WELL_KNOWN = ".well-known/openid-configuration"

#: Tokens shared by every hook in this process, keyed per endpoint, client, certificate,
#: resource and scopes.
SHARED_TOKEN_CACHE = TokenCache()

#: Characters of the server's ``error``/``error_description`` kept in a message.
SERVER_TEXT_CHARS = 500

_TOO_LARGE_ADVICE = f"the server is misbehaving; check {describe('auth_url')} and {describe('issuer')}."


def _ignore_secret(_: str) -> None:
    return None


def discovery_urls(issuer: str) -> list[str]:
    """Where to look for the discovery document of ``issuer`` (a bare AD FS host gets ``/adfs``)."""
    if issuer.rstrip("/").endswith(WELL_KNOWN):
        return [issuer]
    urls = [f"{issuer.rstrip('/')}/{WELL_KNOWN}"]
    parts = urlsplit(issuer)
    if parts.path in ("", "/"):
        urls.append(urlunsplit((parts.scheme, parts.netloc, f"/adfs/{WELL_KNOWN}", "", "")))
    return urls


def token_error_from_response(
    response: httpx.Response, *, token_url: str, resource: str | None
) -> TokenError:
    """Turn a refusal from the token endpoint into a ``TokenError`` with the server's words.

    A 407 is the proxy's refusal, not the token endpoint's, and is reported as such.
    """
    if response.status_code == 407:
        return TokenError(
            f"The proxy ({describe('proxy')}) refused to forward the token request to "
            f"{shown(token_url)} (HTTP 407 Proxy Authentication Required): it wants credentials, which "
            "this provider does not send. Ask for this host to be let through, or use a proxy that "
            "does not ask.",
            status_code=407,
            token_url=token_url,
            resource=resource,
        )
    error: str | None = None
    description: str | None = None
    try:
        body = response.json()
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, Mapping):
        error = str(body["error"])[:SERVER_TEXT_CHARS] if body.get("error") else None
        description = (
            str(body["error_description"])[:SERVER_TEXT_CHARS] if body.get("error_description") else None
        )
    hint = hint_for(error, description)
    said = f"{error}: {description}" if error and description else (error or description)
    if said is None:
        kind = response.headers.get("content-type", "no content type")[:100]
        said = f"no OAuth error body ({kind})"
    message = (
        f"The token endpoint {shown(token_url)} refused the token request "
        f"(HTTP {response.status_code}, {said})"
    )
    if resource:
        message += f" for resource {resource!r}"
    message += "." + (f" {hint}" if hint else "")
    return TokenError(
        message,
        status_code=response.status_code,
        error=error,
        error_description=description,
        hint=hint,
        token_url=token_url,
        resource=resource,
    )


class TokenProvider:
    """Fetches and caches access tokens for one client registration.

    ``on_secret`` is called with every secret the moment it exists (client assertion, access
    token) so the Airflow layer can register it with the secrets masker.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        http: httpx.Client | None = None,
        cache: TokenCache | None = None,
        retry: RetryPolicy | None = None,
        credentials: SigningCredentials | None = None,
        on_secret: Callable[[str], None] = _ignore_secret,
        wall_clock: Callable[[], float] = time.time,
        rotation_memory: RotationMemory | None = None,
    ) -> None:
        self.config = config
        self.cache = cache if cache is not None else SHARED_TOKEN_CACHE
        self.retry = retry or RetryPolicy()
        self._http = http
        self._credentials = credentials
        self._on_secret = on_secret
        self._wall_clock = wall_clock
        self._token_url = config.auth_url
        self._guard = threading.Lock()
        self._async_locks: dict[TokenKey, asyncio.Lock] = {}
        self._rotation_memory = rotation_memory
        self._rotation: Rotation | None = None

    # -- configuration, loaded lazily so each failure surfaces at its own stage -------------
    @property
    def rotation(self) -> Rotation:
        """The connection's certificate(s): which one signs, and the fallback during a rotation."""
        if self._rotation is None:
            with self._guard:
                if self._rotation is None:
                    self._rotation = Rotation(
                        self.config,
                        credentials=self._credentials,
                        memory=self._rotation_memory,
                        wall_clock=self._wall_clock,
                    )
        return self._rotation

    @property
    def credentials(self) -> SigningCredentials:
        """The certificate the next token request signs with (loaded and checked on first use)."""
        return self.rotation.plan()[0].credentials

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = make_client(self.config)
        return self._http

    def token_endpoint(self) -> str:
        """The token endpoint: ``extra.auth_url`` as written, else from discovery (cached)."""
        if self._token_url is None:
            assert self.config.issuer is not None  # ClientConfig guarantees one of the two
            self._token_url = self._discover(self.config.issuer)
        return self._token_url

    def _discover(self, issuer: str) -> str:
        last_error: Exception | None = None
        for url in discovery_urls(issuer):
            try:
                response = self.retry.call(functools.partial(self._send, "GET", url), idempotent=True)
            except TransportError as exc:
                last_error = exc
                continue
            if response.status_code == 404:
                last_error = DiscoveryError(f"{url} answered 404.", url=url)
                continue
            return self._token_endpoint_from(response, url)
        raise self._discovery_failed(issuer, last_error)

    @staticmethod
    def _discovery_failed(issuer: str, last_error: Exception | None) -> DiscoveryError:
        error = DiscoveryError(
            f"Could not read the OpenID discovery document for {describe('issuer')} "
            f"{shown(issuer)!r}: {last_error}. Check the issuer URL, or set {describe('auth_url')} "
            "to the token endpoint instead.",
            url=issuer,
        )
        error.__cause__ = last_error
        return error

    def _send(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        return send(
            self.http,
            method,
            url,
            timeout=self.config.timeout,
            max_bytes=MAX_TOKEN_RESPONSE_BYTES,
            too_large_advice=_TOO_LARGE_ADVICE,
            **kwargs,
        )

    async def _asend(
        self, client: httpx.AsyncClient, method: str, url: str, **kwargs: object
    ) -> httpx.Response:
        return await asend(
            client,
            method,
            url,
            timeout=self.config.timeout,
            max_bytes=MAX_TOKEN_RESPONSE_BYTES,
            too_large_advice=_TOO_LARGE_ADVICE,
            **kwargs,
        )

    def _token_endpoint_from(self, response: httpx.Response, url: str) -> str:
        if response.status_code != 200:
            raise DiscoveryError(f"{url} answered HTTP {response.status_code}.", url=url)
        try:
            document = response.json()
        except (ValueError, RecursionError):
            raise DiscoveryError(f"{url} did not answer with JSON.", url=url) from None
        endpoint = document.get("token_endpoint") if isinstance(document, Mapping) else None
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise DiscoveryError(
                f"{url} has no usable token_endpoint; set {describe('auth_url')} to the token "
                "endpoint instead.",
                url=url,
            )
        problem = url_problem(endpoint, allow_insecure_http=self.config.allow_insecure_http)
        if problem:
            raise UnsafeUrlError(
                f"The token_endpoint discovered at {url} ({shown(endpoint)}) {problem}. Check "
                f"{describe('issuer')}, or set {describe('auth_url')} instead.",
                url=shown(endpoint),
            )
        return endpoint

    # -- the token request -----------------------------------------------------------------
    def key(
        self,
        resource: str | None = None,
        scopes: str | list[str] | None = None,
        credentials: SigningCredentials | None = None,
    ) -> TokenKey:
        """The cache key; loading it checks the credentials, so broken ones never get a cached token."""
        return TokenKey(
            token_url=self.token_endpoint(),
            client_id=self.config.client_id,
            signer=(credentials or self.credentials).x5t_s256,
            resource=resource if resource is not None else self.config.resource,
            scopes=normalize_scopes(scopes) if scopes is not None else self.config.scopes,
        )

    def request_data(self, key: TokenKey, credentials: SigningCredentials | None = None) -> dict[str, str]:
        """Form fields of one token request, with a freshly signed assertion (new ``jti``)."""
        assertion = build_client_assertion(
            credentials or self.credentials,
            client_id=self.config.client_id,
            audience=self.config.assertion_audience or key.token_url,
            header_references=self.config.assertion_header,
            now=self._wall_clock,
        )
        self._secret(assertion)
        data = {
            "grant_type": "client_credentials",
            "client_id": self.config.client_id,
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": assertion,
        }
        if key.resource:
            data["resource"] = key.resource
        if key.scopes:
            data["scope"] = key.scopes
        return data

    def handle_response(self, response: httpx.Response, key: TokenKey, obtained_at: float) -> AccessToken:
        if response.status_code != 200:
            raise token_error_from_response(response, token_url=key.token_url, resource=key.resource)
        try:
            payload = response.json()
        except (ValueError, RecursionError):
            raise TokenError(
                f"The token endpoint {shown(key.token_url)} answered 200 but not with JSON; check "
                f"{describe('auth_url')} is the OAuth token endpoint.",
                status_code=200,
                token_url=key.token_url,
                resource=key.resource,
            ) from None
        if isinstance(payload, Mapping) and isinstance(payload.get("access_token"), str):
            redact.register(payload["access_token"])  # before any check can quote it
        elif isinstance(payload, Mapping) and payload.get("error"):
            # An OAuth error sent with 200 (some servers, some proxies): report it as the refusal
            # it is, not as a missing access_token.
            raise token_error_from_response(response, token_url=key.token_url, resource=key.resource)
        try:
            token = parse_token_response(payload, obtained_at=obtained_at)
        except TokenError as exc:
            raise TokenError(
                f"{exc} (token endpoint {shown(key.token_url)}, resource {key.resource!r})",
                status_code=200,
                token_url=key.token_url,
                resource=key.resource,
            ) from None
        self._on_secret(token.value)
        # One line per token request, so a task log (and an operator counting them) shows where
        # each token came from; the shared cache logs its own hits.
        log.info(
            "Obtained an access token for resource %r from the token endpoint (valid %d s).",
            key.resource,
            int(token.expires_in),
        )
        return token

    def _secret(self, value: str) -> None:
        redact.register(value)
        self._on_secret(value)

    def get_token(self, resource: str | None = None, scopes: str | list[str] | None = None) -> AccessToken:
        """A fresh token for ``resource``/``scopes`` (connection defaults when ``None``).

        During a certificate rotation the next certificate signs once AD FS accepts it; the
        token is cached under the certificate that actually signed (:mod:`.rotation`).
        """
        self.token_endpoint()  # discovery first, so its failure is not a certificate's

        def signed_by(signer: Signer) -> AccessToken:
            key = self.key(resource, scopes, signer.credentials)
            return self.cache.get_or_fetch(key, lambda: self._fetch(key, signer.credentials))

        return self.rotation.run(signed_by)

    def fetch_signed_by(
        self,
        credentials: SigningCredentials,
        resource: str | None = None,
        scopes: str | list[str] | None = None,
    ) -> AccessToken:
        """One token request signed by ``credentials`` only: no cache, no fallback (Test, status)."""
        return self._fetch(self.key(resource, scopes, credentials), credentials)

    def invalidate(self, key: TokenKey, token: AccessToken | None = None) -> None:
        self.cache.invalidate(key, token)
        if token is not None and self._rotation is not None:
            # The token may have come from the other certificate of a rotation than ``key`` names.
            for signer in self._rotation.loaded():
                self.cache.invalidate(key._replace(signer=signer.credentials.x5t_s256), token)

    def _fetch(self, key: TokenKey, credentials: SigningCredentials | None = None) -> AccessToken:
        def attempt() -> httpx.Response:
            # A new assertion per attempt: servers accept each jti once.
            return self._send("POST", key.token_url, data=self.request_data(key, credentials))

        started = self.cache.now()
        response = self.retry.call(attempt, idempotent=True, kind="token")
        return self.handle_response(response, key, started)

    # -- async, for triggers --------------------------------------------------------------
    async def aget_token(
        self,
        client: httpx.AsyncClient,
        resource: str | None = None,
        scopes: str | list[str] | None = None,
    ) -> AccessToken:
        """Async twin of :meth:`get_token`, using the caller's ``httpx.AsyncClient``."""
        if self._token_url is None:
            assert self.config.issuer is not None
            self._token_url = await self._adiscover(client, self.config.issuer)

        async def signed_by(signer: Signer) -> AccessToken:
            return await self._aget_token_signed(client, signer.credentials, resource, scopes)

        return await self.rotation.arun(signed_by)

    async def _aget_token_signed(
        self,
        client: httpx.AsyncClient,
        credentials: SigningCredentials,
        resource: str | None,
        scopes: str | list[str] | None,
    ) -> AccessToken:
        key = self.key(resource, scopes, credentials)
        token = self.cache.get(key)
        if token is not None:
            return token
        lock = self._async_locks.setdefault(key, asyncio.Lock())
        async with lock:
            token = self.cache.get(key)
            if token is None:
                started = self.cache.now()
                response = await self.retry.acall(
                    lambda: self._asend(
                        client, "POST", key.token_url, data=self.request_data(key, credentials)
                    ),
                    idempotent=True,
                    kind="token",
                )
                token = self.handle_response(response, key, started)
                self.cache.put(key, token)
            return token

    async def _adiscover(self, client: httpx.AsyncClient, issuer: str) -> str:
        last_error: Exception | None = None
        for url in discovery_urls(issuer):
            try:
                response = await self.retry.acall(
                    functools.partial(self._asend, client, "GET", url), idempotent=True
                )
            except TransportError as exc:
                last_error = exc
                continue
            if response.status_code == 404:
                last_error = DiscoveryError(f"{url} answered 404.", url=url)
                continue
            return self._token_endpoint_from(response, url)
        raise self._discovery_failed(issuer, last_error)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
