"""Authenticated calls to an API behind the region's gateway.

Every call carries ``Authorization: Bearer <token for the resource>`` and the subscriber key.
Paths are relative to the API base URL; an absolute URL is followed only on the base URL's
scheme, host and port, so a token never leaves for another host (a next link, say). A 401
renews the token once; 429 and, for idempotent methods, 5xx and dropped connections are retried
as :mod:`~airflow_provider_rh.core.retry` says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from airflow_provider_rh.core import redact
from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.fields import describe
from airflow_provider_rh.core.http import MAX_API_RESPONSE_BYTES, asend, send
from airflow_provider_rh.core.oauth import TokenProvider
from airflow_provider_rh.core.retry import RetryPolicy, is_idempotent
from airflow_provider_rh.core.urls import shown
from airflow_provider_rh.exceptions import ApiError, ConfigurationError, UnsafeUrlError

#: Characters of an error body kept on ``ApiError`` (enough for an APIM or problem+json message).
BODY_EXCERPT_CHARS = 500

_TOO_LARGE_ADVICE = (
    f"ask for smaller pages (a lower page size or limit parameter); the cap is "
    f"{MAX_API_RESPONSE_BYTES // (1024 * 1024)} MiB per response."
)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def resolve_url(base_url: str | None, path_or_url: str) -> str:
    """Join a path to the base URL, or accept an absolute URL only on the same origin."""
    if base_url is None:
        raise ConfigurationError(
            f"{describe('host')} is empty; set it to the API base URL, e.g. "
            "https://api.example.se/hsainfo/v1.",
            field="host",
        )
    if "://" in path_or_url.split("?", 1)[0]:
        try:
            netloc = urlsplit(path_or_url).netloc
            origin = _origin(path_or_url)
        except ValueError:
            raise UnsafeUrlError(
                "Refusing a URL that cannot be parsed (check the next link or URL you passed).",
                url=shown(path_or_url),
            ) from None
        if "@" in netloc:
            raise UnsafeUrlError(
                f"Refusing {shown(path_or_url)}: it carries credentials (user:password@), which would "
                "replace the bearer token. Check the next link or URL you passed.",
                url=shown(path_or_url),
            )
        if origin != _origin(base_url):
            raise UnsafeUrlError(
                f"Refusing to send the token to {shown(path_or_url)}: only {shown(base_url)} "
                f"({describe('host')}) is trusted, same scheme, host and port. Check the next link or "
                "URL you passed.",
                url=shown(path_or_url),
            )
        return path_or_url
    if not path_or_url:
        return base_url
    return f"{base_url.rstrip('/')}/{path_or_url.lstrip('/')}"


def api_error(response: httpx.Response) -> ApiError:
    """An ``ApiError`` for a non-2xx response, with what the server said and what to check."""
    url = str(response.request.url.copy_with(query=None)) if response.request else ""
    # Redacted, escaped and cut, saying how much more there was.
    body = redact.shown(response.text, BODY_EXCERPT_CHARS) if response.content else ""
    status = response.status_code
    advice = {
        401: f" The gateway refused the subscriber key or the token; check {describe('password')} is "
        f"the key of this API's subscription and that {describe('resource')} is this API's resource id.",
        403: f" The token lacks a scope this call needs; check {describe('scopes')}.",
        404: f" Check the path and {describe('host')}.",
        429: " The API kept answering 'too many requests' after the retries.",
    }.get(status, " The API failed after the retries." if status >= 500 else "")
    return ApiError(
        f"{response.request.method if response.request else 'Request'} {url} answered HTTP {status}."
        f"{advice}" + (f" Body: {body}" if body else ""),
        status_code=status,
        url=url,
        body_excerpt=body,
    )


class ApiClient:
    """Calls one API with per-resource tokens from a :class:`TokenProvider`."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        tokens: TokenProvider,
        http: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.retry = retry or tokens.retry
        self._http = http

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = self.tokens.http  # one pool for token and API calls
        return self._http

    def resolve(self, path_or_url: str) -> str:
        return resolve_url(self.config.base_url, path_or_url)

    def _headers(self, extra: Mapping[str, str] | None, token_value: str) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if extra:
            headers.update(extra)
        headers["Authorization"] = f"Bearer {token_value}"
        if self.config.subscription_key:
            headers[self.config.subscription_key_header] = self.config.subscription_key
        return headers

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        resource: str | None = None,
        scopes: str | list[str] | None = None,
        timeout: float | None = None,
        raise_for_status: bool = True,
    ) -> httpx.Response:
        """Send one authenticated call, with retries; raise ``ApiError`` on a final non-2xx."""
        url = self.resolve(path_or_url)
        idempotent = is_idempotent(method)

        def send_once() -> httpx.Response:
            key = self.tokens.key(resource, scopes)
            for renewal in (False, True):
                token = self.tokens.get_token(resource, scopes)
                response = send(
                    self.http,
                    method,
                    url,
                    params=params,
                    headers=self._headers(headers, token.value),
                    json=json,
                    data=data,
                    timeout=timeout if timeout is not None else self.config.timeout,
                    max_bytes=MAX_API_RESPONSE_BYTES,
                    too_large_advice=_TOO_LARGE_ADVICE,
                )
                if response.status_code != 401 or renewal:
                    return response
                # The token may have been revoked or expired early: renew once, then give up.
                self.tokens.invalidate(key, token)
            raise AssertionError("unreachable")  # pragma: no cover

        response = self.retry.call(send_once, idempotent=idempotent)
        if raise_for_status and not response.is_success:
            raise api_error(response)
        return response

    async def arequest(
        self,
        client: httpx.AsyncClient,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        resource: str | None = None,
        scopes: str | list[str] | None = None,
        timeout: float | None = None,
        raise_for_status: bool = True,
    ) -> httpx.Response:
        """Async twin of :meth:`request` on the caller's ``httpx.AsyncClient``."""
        url = self.resolve(path_or_url)
        idempotent = is_idempotent(method)

        async def send_once() -> httpx.Response:
            for renewal in (False, True):
                token = await self.tokens.aget_token(client, resource, scopes)
                response = await asend(
                    client,
                    method,
                    url,
                    params=params,
                    headers=self._headers(headers, token.value),
                    json=json,
                    timeout=timeout if timeout is not None else self.config.timeout,
                    max_bytes=MAX_API_RESPONSE_BYTES,
                    too_large_advice=_TOO_LARGE_ADVICE,
                )
                if response.status_code != 401 or renewal:
                    return response
                self.tokens.invalidate(self.tokens.key(resource, scopes), token)
            raise AssertionError("unreachable")  # pragma: no cover

        response = await self.retry.acall(send_once, idempotent=idempotent)
        if raise_for_status and not response.is_success:
            raise api_error(response)
        return response

    def close(self) -> None:
        if self._http is not None and self._http is not self.tokens._http:
            self._http.close()
        self.tokens.close()
