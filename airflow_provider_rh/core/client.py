"""Authenticated calls to an API behind the region's gateway.

Every call carries ``Authorization: Bearer <token for the resource>`` and the subscriber key.
Paths are relative to the API base URL; an absolute URL is followed only on the base URL's
scheme, host and port, so a token never leaves for another host (a next link, say), and no URL
longer than :data:`MAX_URL_CHARS` is sent. A query written into the path is kept when query
parameters are given too (httpx would replace it). Header values that could never be sent are
refused before the first attempt, naming the field. A 401
renews the token once; 429 and, for idempotent methods, 5xx and dropped connections are retried
as :mod:`~airflow_provider_rh.core.retry` says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
#: Longest URL (path, next link) sent: gateways refuse far shorter ones, and a longer one is
#: not a link but an attack on whoever parses it.
MAX_URL_CHARS = 8192

# RFC 9110 §5.1 token (header names) and §5.5 field values as httpx sends them: visible ASCII,
# space and tab. Anything else fails on the socket, the same on every retry.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")

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
    if len(path_or_url) > MAX_URL_CHARS:
        raise UnsafeUrlError(
            f"Refusing a URL of {len(path_or_url):,} characters; at most {MAX_URL_CHARS:,} are sent "
            f"(it starts {path_or_url[:60]!r}). Check the path or next link.",
            url=shown(path_or_url),
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


def merge_query(url: str, params: Mapping[str, Any] | None) -> tuple[str, Any]:
    """``url`` and the params to send: a query already in ``url`` first, then ``params``.

    httpx replaces a URL's query with ``params`` (even an empty mapping), which silently
    dropped a filter written into the path (``"/units?status=active"``). A name in both places
    is refused: which one was meant cannot be guessed.
    """
    if params is None or "?" not in url:
        return url, params
    parts = urlsplit(url)
    if not parts.query:
        return url, params
    written = httpx.QueryParams(parts.query)
    both = [str(key) for key in params if str(key) in written]
    if both:
        shown_path = parts.path[-80:] + "?" + parts.query[:200]
        raise ConfigurationError(
            f"The query parameter {both[0][:80]!r} is both in the path ({shown_path!r}) and in the "
            "query parameters (params / query_params); give it in one place.",
            field="query_params",
        )
    # The path's query is kept exactly as written (order, repeats, encoding); params follow it.
    added: list[tuple[str, Any]] = []
    for key, value in params.items():
        if isinstance(value, list | tuple):
            added.extend((str(key), item) for item in value)
        else:
            added.append((str(key), value))
    extra = str(httpx.QueryParams(added))
    return (urlunsplit(parts._replace(query=f"{parts.query}&{extra}")) if extra else url), None


def check_header(name: str, value: str, *, field: str, shown_name: str | None = None) -> None:
    """Refuse a header httpx could never send (line breaks, control or non-ASCII characters).

    The value is never quoted: it may be a secret (the subscriber key).
    """
    label = shown_name or repr(name[:80])
    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        raise ConfigurationError(
            f"The header name {label} cannot be sent: a header name is letters, digits and "
            f"!#$%&'*+-.^_`|~ only. Check {field}.",
            field=field,
        )
    if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
        where = ""
        if isinstance(value, str):
            bad = next(i for i, char in enumerate(value) if not _HEADER_VALUE.fullmatch(char))
            where = f" (character {bad + 1} of {len(value)}, {_char_kind(value[bad])})"
        raise ConfigurationError(
            f"The value of header {label} cannot be sent in an HTTP header{where}: only visible "
            f"ASCII, spaces and tabs can. Check {field}.",
            field=field,
        )


def _char_kind(char: str) -> str:
    if char in "\r\n":
        return "a line break"
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return "a control character"
    return "a non-ASCII character"


def _excerpt(response: httpx.Response) -> str:
    """The start of an error body as text, decoding only what is kept (a body can be 256 MiB)."""
    head = response.content[: BODY_EXCERPT_CHARS * 4]
    try:
        text = head.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:
        text = head.decode("utf-8", errors="replace")
    return text[:BODY_EXCERPT_CHARS]


def api_error(response: httpx.Response) -> ApiError:
    """An ``ApiError`` for a non-2xx response, with what the server said and what to check."""
    url = str(response.request.url.copy_with(query=None)) if response.request else ""
    # Only the start is decoded (a body can be 256 MiB); then redacted and escaped, and cut again
    # so the excerpt stays within its size (escapes lengthen it; a cut mask reveals nothing).
    body = (
        redact.shown(_excerpt(response), BODY_EXCERPT_CHARS)[:BODY_EXCERPT_CHARS] if response.content else ""
    )
    status = response.status_code
    advice = {
        401: f" The gateway refused the subscriber key or the token; check {describe('password')} is "
        f"the key of this API's subscription and that {describe('resource')} is this API's resource id.",
        403: f" The token lacks a scope this call needs; check {describe('scopes')}.",
        404: f" Check the path and {describe('host')}.",
        407: f" The proxy ({describe('proxy')}) refused to forward the call: it wants credentials, "
        "which this provider does not send. Ask for this host to be let through, or use a proxy that "
        "does not ask.",
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

    def check_headers(self, extra: Mapping[str, str] | None) -> None:
        """Refuse, before any attempt, a header that could never be sent (naming the field)."""
        for name, value in (extra or {}).items():
            check_header(name, value, field="headers")
        if self.config.subscription_key:
            header = self.config.subscription_key_header
            check_header(header, "x", field=describe("subscription_key_header"))
            check_header(
                header,
                self.config.subscription_key,
                field=describe("password"),
                shown_name=f"{header[:80]!r} ({describe('password')})",
            )

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
        url, params = merge_query(self.resolve(path_or_url), params)
        self.check_headers(headers)
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
        url, params = merge_query(self.resolve(path_or_url), params)
        self.check_headers(headers)
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
