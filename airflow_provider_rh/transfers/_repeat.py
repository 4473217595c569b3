"""Retrying a POST that is safe to repeat (a read-only search), when the user says it is.

A POST is not retried on 5xx or a dropped connection by default: the server may have acted on
it. A search that only reads is as safe to repeat as a GET; ``idempotent=True`` on the storage
operator says so, and this policy then retries its requests as it retries GETs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

import httpx

from airflow_provider_rh.core.retry import RetryPolicy


@dataclasses.dataclass(frozen=True)
class RepeatablePolicy(RetryPolicy):
    """:class:`RetryPolicy` that treats every API request as idempotent (token requests unchanged)."""

    @classmethod
    def of(cls, policy: RetryPolicy) -> RepeatablePolicy:
        return cls(**{f.name: getattr(policy, f.name) for f in dataclasses.fields(policy)})

    def call(
        self, send: Callable[[], httpx.Response], *, idempotent: bool, kind: str = "request"
    ) -> httpx.Response:
        return super().call(send, idempotent=idempotent or kind == "request", kind=kind)

    async def acall(
        self, send: Callable[[], Awaitable[httpx.Response]], *, idempotent: bool, kind: str = "request"
    ) -> httpx.Response:
        return await super().acall(send, idempotent=idempotent or kind == "request", kind=kind)
