"""A total deadline for one HTTP attempt, enforced at every socket operation.

httpx's timeouts bound each socket operation (and httpcore reads the read timeout once per
response phase), so a server that trickles a byte a second, in the headers or the body, holds
an attempt forever. :func:`bound` wraps the network backend of a client's connection pools so
that every connect, read, write and TLS handshake gets at most what is left of the current
attempt's :class:`Deadline` (a context variable, so threads and asyncio tasks each see their
own) and fails once it is spent.

The pools' backend is httpcore's ``_network_backend`` attribute: httpx offers no public way to
set it. A test pins the behaviour (a server trickling headers must time out), so an httpcore
change that breaks this is seen at once.
"""

from __future__ import annotations

import contextvars
import ssl
import time
import typing
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

from airflow_provider_rh.core.fields import describe

SocketOption = Any


class Budget:
    """What is left of a retry policy's ``total_seconds`` for one call and all its attempts.

    Set as :data:`BUDGET` while a :class:`~airflow_provider_rh.core.retry.RetryPolicy` runs a
    call, so each attempt's :class:`Deadline` is the lesser of the timeout and what is left:
    "300 s in total" is then a bound, not a rule checked between attempts. A call inside another
    (the token request inside an API call) gets at most what its parent has left.
    """

    def __init__(
        self, seconds: float, *, clock: Callable[[], float] = time.monotonic, parent: Budget | None = None
    ) -> None:
        self.seconds = seconds
        self._clock = clock
        self._ends = clock() + seconds
        self._parent = parent

    def remaining(self) -> float:
        own = self._ends - self._clock()
        return own if self._parent is None else min(own, self._parent.remaining())


BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("rh_retry_budget", default=None)


class Deadline(dict[str, float]):
    """One attempt's deadline; also usable as httpx's ``timeout`` extension (values shrink).

    ``budget``: the retry budget this attempt runs under; it caps ``seconds`` and is named in
    the message when it, not the timeout, was the limit.
    """

    def __init__(
        self,
        seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        budget: Budget | None = None,
    ) -> None:
        self.timeout = seconds
        self.budget = budget
        if budget is not None:
            seconds = max(0.0, min(seconds, budget.remaining()))
        super().__init__(connect=seconds, read=seconds, write=seconds, pool=seconds)
        self.seconds = seconds
        self._clock = clock
        self._ends = clock() + seconds

    @classmethod
    def for_attempt(cls, timeout: float) -> Deadline:
        """The deadline of one attempt: ``timeout``, or less if the retry budget has less left."""
        return cls(timeout, budget=BUDGET.get())

    def remaining(self) -> float:
        return self._ends - self._clock()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self:
            return default
        # Never 0: a socket timeout of 0 means non-blocking, not "expired".
        return max(0.001, min(dict.__getitem__(self, key), self.remaining()))

    def __getitem__(self, key: str) -> float:
        value: float = self.get(key)
        return value

    def message(self) -> str:
        if self.budget is not None and self.seconds < self.timeout:
            return (
                f"no complete answer within {self.seconds:.3g} s, what was left of the retry budget "
                f"of {self.budget.seconds:g} s for this call and its retries (the timeout, "
                f"{describe('timeout')}, is {self.timeout:g} s)"
            )
        return (
            f"no complete answer within {self.seconds:g} s ({describe('timeout')}, the limit for "
            "one HTTP call, headers and body)"
        )


CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("rh_http_deadline", default=None)


def _clamp(timeout: float | None) -> float | None:
    deadline = CURRENT.get()
    if deadline is None:
        return timeout
    remaining = deadline.remaining()
    if remaining <= 0:
        raise httpcore.ReadTimeout(deadline.message())
    return remaining if timeout is None else min(timeout, remaining)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_tcp(host, port, _clamp(timeout), local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SocketOption] | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, _clamp(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _clamp(timeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _clamp(timeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, _clamp(timeout), local_address, socket_options)
        return _AsyncStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SocketOption] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(await self._inner.connect_unix_socket(path, _clamp(timeout), socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


_C = typing.TypeVar("_C", httpx.Client, httpx.AsyncClient)


def bound(client: _C) -> _C:
    """Make every socket operation of ``client`` respect the current :data:`CURRENT` deadline."""
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, _Backend):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
        elif isinstance(backend, httpcore.AsyncNetworkBackend) and not isinstance(backend, _AsyncBackend):
            pool._network_backend = _AsyncBackend(backend)  # type: ignore[union-attr]
    return client
