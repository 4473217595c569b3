"""One HTTP attempt, bounded in time and in size, sync or async.

``timeout`` is the whole attempt, headers and body: :func:`send` sets the attempt's
:class:`~airflow_provider_rh.core.deadline.Deadline`, which the client's connection pools
enforce at every socket operation (:func:`~airflow_provider_rh.core.deadline.bound` is applied
to whatever client is passed, once). The body is read in chunks and refused
beyond a size cap (after decompression, so a small gzip bomb counts at its
real size). httpx's own exception texts are re-raised redacted and without the chain, because a
malformed header value would otherwise travel in them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.deadline import CURRENT, Deadline, bound
from airflow_provider_rh.core.redact import redact
from airflow_provider_rh.core.urls import shown
from airflow_provider_rh.exceptions import PayloadTooLargeError, UnsafeUrlError

#: Size cap of token and discovery responses: a token response is a few KB.
MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024
#: Size cap of one API response (one page): generous, but a bound on memory.
MAX_API_RESPONSE_BYTES = 256 * 1024 * 1024

_DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _build(
    client: httpx.Client | httpx.AsyncClient,
    method: str,
    url: str,
    deadline: Deadline,
    kwargs: dict[str, Any],
) -> httpx.Request:
    try:
        return client.build_request(method, url, extensions={"timeout": deadline}, **kwargs)
    except httpx.InvalidURL:
        raise UnsafeUrlError(
            f"Refusing {shown(url)}: httpx cannot use it as a URL (check the path, next link or URL you "
            "passed).",
            url=shown(url),
        ) from None


def _too_large(response: httpx.Response, limit: int, size: int, advice: str) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"{response.request.method} {shown(str(response.request.url))} answered with more than "
        f"{limit} bytes (the cap for this kind of response); {advice}",
        size=size,
        limit=limit,
    )


def _declared_size(response: httpx.Response) -> int:
    try:
        return int(response.headers.get("content-length", "0"))
    except ValueError:
        return 0


def _complete(response: httpx.Response, body: bytes) -> httpx.Response:
    """A read response holding ``body`` (already decoded), like httpx's own non-stream result."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROPPED_HEADERS]
    done = httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=response.request,
        extensions=response.extensions,
        history=response.history,
    )
    if hasattr(response, "_elapsed"):  # absent on transports that do not time (MockTransport)
        done.elapsed = response.elapsed
    return done


def _sanitized(exc: httpx.TransportError, request: httpx.Request, deadline: Deadline) -> httpx.TransportError:
    if isinstance(exc, httpx.TimeoutException):
        return type(exc)(deadline.message(), request=request)
    if deadline.expired():
        return httpx.ReadTimeout(deadline.message(), request=request)
    if isinstance(exc, httpx.LocalProtocolError):
        return httpx.LocalProtocolError(
            "the request could not be sent: a header value is malformed (header values must be "
            "visible ASCII; check any headers you passed)",
            request=request,
        )
    return type(exc)(redact(str(exc)) or type(exc).__name__, request=request)


def _collect(
    chunks: Iterator[bytes], response: httpx.Response, deadline: Deadline, limit: int, advice: str
) -> bytes:
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise _too_large(response, limit, len(body), advice)
        if deadline.expired():
            raise httpx.ReadTimeout(deadline.message(), request=response.request)
    return bytes(body)


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    too_large_advice: str = "ask for less per call.",
    **kwargs: Any,
) -> httpx.Response:
    """Send one request and read its body within ``timeout`` seconds and ``max_bytes`` bytes."""
    deadline = Deadline(timeout)
    bound(client)  # idempotent: a client made elsewhere (a trigger's) gets the deadline too
    request = _build(client, method, url, deadline, kwargs)
    reset = CURRENT.set(deadline)
    try:
        response = client.send(request, stream=True)
        try:
            if _declared_size(response) > max_bytes:
                raise _too_large(response, max_bytes, _declared_size(response), too_large_advice)
            body = _collect(response.iter_bytes(), response, deadline, max_bytes, too_large_advice)
        finally:
            response.close()
    except httpx.TransportError as exc:
        raise _sanitized(exc, request, deadline) from None
    finally:
        CURRENT.reset(reset)
    return _complete(response, body)


async def _acollect(
    chunks: AsyncIterator[bytes], response: httpx.Response, deadline: Deadline, limit: int, advice: str
) -> bytes:
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise _too_large(response, limit, len(body), advice)
        if deadline.expired():
            raise httpx.ReadTimeout(deadline.message(), request=response.request)
    return bytes(body)


async def asend(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    too_large_advice: str = "ask for less per call.",
    **kwargs: Any,
) -> httpx.Response:
    """Async twin of :func:`send`."""
    deadline = Deadline(timeout)
    bound(client)  # idempotent: a client made elsewhere (a trigger's) gets the deadline too
    request = _build(client, method, url, deadline, kwargs)
    reset = CURRENT.set(deadline)
    try:
        response = await client.send(request, stream=True)
        try:
            if _declared_size(response) > max_bytes:
                raise _too_large(response, max_bytes, _declared_size(response), too_large_advice)
            body = await _acollect(response.aiter_bytes(), response, deadline, max_bytes, too_large_advice)
        finally:
            await response.aclose()
    except httpx.TransportError as exc:
        raise _sanitized(exc, request, deadline) from None
    finally:
        CURRENT.reset(reset)
    return _complete(response, body)


def make_client(config: ClientConfig) -> httpx.Client:
    """An ``httpx.Client`` for the connection whose attempts :func:`send` bounds completely."""
    return bound(httpx.Client(**client_options(config)))


def make_async_client(config: ClientConfig) -> httpx.AsyncClient:
    """Async twin of :func:`make_client` (triggers)."""
    return bound(httpx.AsyncClient(**client_options(config)))


def client_options(config: ClientConfig) -> dict[str, Any]:
    """Keyword arguments for ``httpx.Client``/``AsyncClient`` from a connection's settings."""
    return {
        "verify": config.ssl_verify(),
        "timeout": config.timeout,
        "proxy": config.proxy,
        "follow_redirects": False,
    }
