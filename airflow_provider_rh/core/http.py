"""One HTTP attempt, bounded in time and in size, sync or async.

``timeout`` is the whole attempt, headers and body: :func:`send` sets the attempt's
:class:`~airflow_provider_rh.core.deadline.Deadline`, which the client's connection pools
enforce at every socket operation (:func:`~airflow_provider_rh.core.deadline.bound` is applied
to whatever client is passed, once); under a retry policy it is also capped by what is left of
the policy's ``total_seconds``. The body is read raw and decoded here in bounded steps
(:mod:`~airflow_provider_rh.core.decoding`), counted after every step, so a small gzip bomb,
stacked codings included, is refused before it takes more than the cap plus a small constant
of memory. httpx's own exception texts are re-raised redacted and without the chain, because a
malformed header value would otherwise travel in them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpcore
import httpx

from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.deadline import CURRENT, Deadline, bound
from airflow_provider_rh.core.decoding import ACCEPT_ENCODING, BoundedDecoder, CodingError
from airflow_provider_rh.core.fields import describe
from airflow_provider_rh.core.redact import redact
from airflow_provider_rh.core.urls import shown
from airflow_provider_rh.exceptions import ApiError, PayloadTooLargeError, UnsafeUrlError

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
        request = client.build_request(method, url, extensions={"timeout": deadline}, **kwargs)
    except httpx.InvalidURL:
        raise UnsafeUrlError(
            f"Refusing {shown(url)}: httpx cannot use it as a URL (check the path, next link or URL you "
            "passed).",
            url=shown(url),
        ) from None
    # Offer only the codings that are decoded in bounded steps (httpx would offer br and zstd
    # whenever their packages happen to be installed).
    request.headers["Accept-Encoding"] = ACCEPT_ENCODING
    return request


def _already_read(response: httpx.Response) -> bool:
    """A response made in memory (``httpx.Response(content=...)``, as MockTransport hands
    back) arrives read and decoded already; there is nothing raw left to decode."""
    return response.is_stream_consumed and hasattr(response, "_content")


def _decoder(response: httpx.Response) -> BoundedDecoder:
    if _already_read(response):
        return BoundedDecoder(None)
    try:
        return BoundedDecoder(response.headers.get("content-encoding"))
    except CodingError as exc:
        raise _undecodable(response, exc) from None


def _undecodable(response: httpx.Response, exc: CodingError) -> ApiError:
    url = shown(str(response.request.url))
    return ApiError(
        f"{response.request.method} {url} answered HTTP {response.status_code}, but {exc}. The server "
        "or a proxy on the way sends a body this provider will not decode; check the URL and proxy.",
        status_code=response.status_code,
        url=url,
    )


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


def proxy_for(client: httpx.Client | httpx.AsyncClient, url: httpx.URL) -> str | None:
    """The proxy ``client`` sends ``url`` through (shown safely), or ``None`` if it goes direct."""
    try:
        transport = client._transport_for_url(url)
    except Exception:  # a private httpx method: no answer means "not known"
        return None
    proxy = getattr(getattr(transport, "_pool", None), "_proxy_url", None)
    if not isinstance(proxy, httpcore.URL):
        return None
    host = proxy.host.decode("ascii", "replace")
    host = f"[{host}]" if ":" in host else host
    port = f":{proxy.port}" if proxy.port else ""
    return f"{proxy.scheme.decode('ascii', 'replace')}://{host}{port}"


def _through_proxy(exc: httpx.TransportError, proxy: str, request: httpx.Request) -> httpx.ProxyError:
    """The proxy, not the server, named as what failed: it is the only thing the client reached."""
    said = redact(str(exc))[:200] or type(exc).__name__
    if isinstance(exc, httpx.ProxyError):
        what = f"refused to open a tunnel ({said})"
        if said.startswith("407"):
            what += (
                "; it wants credentials, which this provider does not send: ask for this host to be "
                "let through, or use a proxy that does not ask"
            )
    else:
        what = f"could not be reached ({type(exc).__name__}: {said})"
    return httpx.ProxyError(f"the proxy {proxy} ({describe('proxy')}) {what}", request=request)


def _sanitized(
    exc: httpx.TransportError,
    request: httpx.Request,
    deadline: Deadline,
    client: httpx.Client | httpx.AsyncClient,
) -> httpx.TransportError:
    if isinstance(exc, httpx.TimeoutException):
        return type(exc)(deadline.message(), request=request)
    if deadline.expired():
        return httpx.ReadTimeout(deadline.message(), request=request)
    if isinstance(exc, httpx.ConnectError | httpx.ProxyError):
        proxy = proxy_for(client, request.url)
        if proxy is not None:
            return _through_proxy(exc, proxy, request)
    if isinstance(exc, httpx.LocalProtocolError):
        return httpx.LocalProtocolError(
            "the request could not be sent: a header value is malformed (header values must be "
            "visible ASCII; check any headers you passed)",
            request=request,
        )
    return type(exc)(redact(str(exc)) or type(exc).__name__, request=request)


class _Body:
    """The decoded body as it grows, refused the moment it passes ``limit`` or the deadline."""

    def __init__(self, response: httpx.Response, deadline: Deadline, limit: int, advice: str) -> None:
        self.response = response
        self.deadline = deadline
        self.limit = limit
        self.advice = advice
        self.decoder = _decoder(response)
        self.data = bytearray()

    def add(self, pieces: Iterator[bytes]) -> None:
        try:
            for piece in pieces:  # each at most decoding.STEP bytes
                self.data += piece
                if len(self.data) > self.limit:
                    raise _too_large(self.response, self.limit, len(self.data), self.advice)
        except CodingError as exc:
            raise _undecodable(self.response, exc) from None
        if self.deadline.expired():
            raise httpx.ReadTimeout(self.deadline.message(), request=self.response.request)

    def raw(self, chunk: bytes) -> None:
        self.add(self.decoder.decode(chunk))

    def done(self) -> bytes:
        self.add(self.decoder.flush())
        return bytes(self.data)


def _raw(response: httpx.Response) -> Iterator[bytes]:
    return iter(()) if _already_read(response) else response.iter_raw()


async def _araw(response: httpx.Response) -> AsyncIterator[bytes]:
    if not _already_read(response):
        async for chunk in response.aiter_raw():
            yield chunk


def _collect(
    chunks: Iterator[bytes], response: httpx.Response, deadline: Deadline, limit: int, advice: str
) -> bytes:
    body = _Body(response, deadline, limit, advice)
    for chunk in [response.content] if _already_read(response) else chunks:
        body.raw(chunk)
    return body.done()


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
    deadline = Deadline.for_attempt(timeout)
    bound(client)  # idempotent: a client made elsewhere (a trigger's) gets the deadline too
    request = _build(client, method, url, deadline, kwargs)
    reset = CURRENT.set(deadline)
    try:
        response = client.send(request, stream=True)
        try:
            if _declared_size(response) > max_bytes:
                raise _too_large(response, max_bytes, _declared_size(response), too_large_advice)
            body = _collect(_raw(response), response, deadline, max_bytes, too_large_advice)
        finally:
            response.close()
    except httpx.TransportError as exc:
        raise _sanitized(exc, request, deadline, client) from None
    finally:
        CURRENT.reset(reset)
    return _complete(response, body)


async def _acollect(
    chunks: AsyncIterator[bytes], response: httpx.Response, deadline: Deadline, limit: int, advice: str
) -> bytes:
    body = _Body(response, deadline, limit, advice)
    if _already_read(response):
        body.raw(response.content)
    else:
        async for chunk in chunks:
            body.raw(chunk)
    return body.done()


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
    deadline = Deadline.for_attempt(timeout)
    bound(client)  # idempotent: a client made elsewhere (a trigger's) gets the deadline too
    request = _build(client, method, url, deadline, kwargs)
    reset = CURRENT.set(deadline)
    try:
        response = await client.send(request, stream=True)
        try:
            if _declared_size(response) > max_bytes:
                raise _too_large(response, max_bytes, _declared_size(response), too_large_advice)
            body = await _acollect(_araw(response), response, deadline, max_bytes, too_large_advice)
        finally:
            await response.aclose()
    except httpx.TransportError as exc:
        raise _sanitized(exc, request, deadline, client) from None
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
