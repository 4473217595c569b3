"""Small seams for edge-case tests: a recorded-sleep retry policy and a handler-backed client."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx

from airflow_provider_rh.core.client import ApiClient
from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.credentials import load_credentials
from airflow_provider_rh.core.oauth import TokenProvider
from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.core.tokens import TokenCache
from tests.pki import make_cert

TOKEN_URL = "https://adfs.example.se/adfs/oauth2/token/"
BASE_URL = "https://api.example.se/hsainfo/v1"
CERT = make_cert()


class Sleeps(list[float]):
    """Records the waits a retry policy asks for, without sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.append(seconds)
        await asyncio.sleep(0)


def policy(sleeps: Sleeps, **kwargs: object) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps, async_sleep=sleeps.asleep, rng=random.Random(0), **kwargs)  # type: ignore[arg-type]


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def make_config(**extra: object) -> ClientConfig:
    values: dict[str, object] = {
        "auth_url": TOKEN_URL,
        "resource": "hsainfoapi.regionhalland.se",
        "scopes": "hsainfoapi.read",
    }
    values.update(extra)
    return ClientConfig.from_connection_fields(
        host=BASE_URL, login="client-guid", password="sub-key-123", extra=values
    )


def make_client(
    handler: Callable[[httpx.Request], httpx.Response],
    sleeps: Sleeps | None = None,
    secrets: list[str] | None = None,
    **extra: object,
) -> ApiClient:
    cfg = make_config(**extra)
    http = httpx.Client(transport=httpx.MockTransport(handler))
    on_secret = secrets.append if secrets is not None else (lambda _: None)
    tokens = TokenProvider(
        cfg,
        http=http,
        cache=TokenCache(),
        retry=policy(sleeps if sleeps is not None else Sleeps()),
        credentials=load_credentials(certificate=CERT.cert_pem, private_key=CERT.key_pem()),
        on_secret=on_secret,
    )
    return ApiClient(cfg, tokens=tokens)


def token_response(value: str = "tok-1", expires_in: object = 3600) -> httpx.Response:
    return httpx.Response(200, json={"access_token": value, "token_type": "bearer", "expires_in": expires_in})
