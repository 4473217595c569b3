"""The sandbox as one ASGI app, and :class:`Sandbox`, which serves it with uvicorn in a thread."""

from __future__ import annotations

import json
import shlex
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount

from airflow_provider_rh.sandbox import shapes, state, tokens
from airflow_provider_rh.sandbox.api import HsaInfoApi
from airflow_provider_rh.sandbox.config import SandboxConfig
from airflow_provider_rh.sandbox.context import (
    API_BASE_PATH,
    HSAINFO_CLIENT_SCOPES,
    HSAINFO_RESOURCE,
    HSAINFO_SCOPES,
    OTHER_RESOURCE,
    OTHER_SCOPES,
    Context,
)
from airflow_provider_rh.sandbox.faults import FaultInjector, FaultsMiddleware, install_log_filter
from airflow_provider_rh.sandbox.gateway import Gateway
from airflow_provider_rh.sandbox.stats import Stats

CONN_ENV_VAR = "AIRFLOW_CONN_REGIONHALLAND_DEFAULT"


def parse_connection_env_line(line: str) -> dict[str, Any] | None:
    """The connection in a line printed by :meth:`Sandbox.connection_env_line`; ``None`` otherwise.

    Its exact inverse (shell quoting included), for scripts and tests that start the CLI; the
    line without its leading ``export`` (as older versions printed it) is read too.
    """
    text = line.removeprefix("export ")
    if not text.startswith(f"{CONN_ENV_VAR}="):
        return None
    [assignment] = shlex.split(text)
    connection: dict[str, Any] = json.loads(assignment.partition("=")[2])
    return connection


_START_TIMEOUT = 60.0  # a readiness bound for a busy machine; uvicorn normally starts in milliseconds
_STOP_TIMEOUT = 10.0


def build_app(ctx: Context, store: shapes.ShapesStore | None = None) -> Starlette:
    """AD FS routes under ``/adfs``, and the gateway-guarded API under its base path."""
    api = HsaInfoApi(count=ctx.config.unit_count, epoch=ctx.config.epoch, step=ctx.config.step).app()
    api.router.routes[:0] = shapes.routes(store or shapes.ShapesStore.for_config(ctx.config))
    guarded = Gateway(FaultsMiddleware(api, injector=ctx.faults, stats=ctx.stats), ctx=ctx)
    return Starlette(
        routes=[*tokens.routes(ctx), Mount(API_BASE_PATH, app=guarded)],
        exception_handlers={404: _not_found},
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"statusCode": 404, "message": "Resource not found"}, 404)


class Sandbox:
    """A running test double of the region's AD FS and API gateway with the sample ``hsainfo`` API.

    Construction loads (or makes) the identity in the state folder, binds the port (``port=0``
    picks a free one, so every URL is known at once) and writes ``connection.json``; :meth:`start`
    serves from a background thread and :meth:`stop` ends it, every wait bounded.

    Example::

        with Sandbox(SandboxConfig(state_dir=tmp_path, port=0, unit_count=250)) as sb:
            httpx.post(sb.token_url, data=...)
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.identity = state.load_or_create(self.config.state_dir)
        self._socket = _bind(self.config.host, self.config.port)
        self.port: int = self._socket.getsockname()[1]
        self.ctx = Context(
            config=self.config,
            public_url=_public_url(self.config, self.port),
            signing_key=RSAKey.import_key(self.identity.signing_key_pem),
            faults=FaultInjector(self.config.faults, started_at=self.config.clock()),
        )
        self._register_defaults()
        self.shapes = shapes.ShapesStore.for_config(self.config)
        """The changing records behind the POST search and OData routes (:mod:`.shapes`)."""
        try:
            self.connection_path = state.write_connection(self.config.state_dir, self.connection)
        except OSError:
            self._socket.close()
            raise
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def url(self) -> str:
        """``http://host:port``, the root of everything served."""
        return self.ctx.public_url

    @property
    def base_url(self) -> str:
        return self.ctx.base_url

    @property
    def token_url(self) -> str:
        return self.ctx.token_url

    @property
    def issuer(self) -> str:
        return self.ctx.issuer

    @property
    def stats(self) -> Stats:
        return self.ctx.stats

    @property
    def client_id(self) -> str:
        return self.identity.client_id

    @property
    def subscription_key(self) -> str:
        return self.identity.subscription_key

    @property
    def certificate_pem(self) -> str:
        return self.identity.certificate_pem

    @property
    def private_key_pem(self) -> str:
        return self.identity.private_key_pem

    @property
    def connection(self) -> dict[str, Any]:
        """The Airflow connection (JSON form) that reaches this sandbox."""
        base = urlsplit(self.base_url)
        return {
            "conn_type": "regionhalland",
            "host": self.base_url,
            # Airflow 3.3.1-3.3.2's Test button needs a port (docs/troubleshooting.md).
            "port": base.port or {"https": 443, "http": 80}.get(base.scheme),
            "login": self.client_id,
            "password": self.subscription_key,
            "extra": {
                "auth_url": self.token_url,
                "certificate": self.certificate_pem,
                "private_key": self.private_key_pem,
                "resource": HSAINFO_RESOURCE,
                "scopes": " ".join(HSAINFO_CLIENT_SCOPES),
                "test_path": "/health",
            },
        }

    def connection_uri_env(self) -> str:
        """The connection as the JSON string for ``AIRFLOW_CONN_REGIONHALLAND_DEFAULT``."""
        return json.dumps(self.connection)

    def connection_env_line(self) -> str:
        """``export AIRFLOW_CONN_REGIONHALLAND_DEFAULT='{...}'``: one line to paste into a shell.

        With ``export`` the variable reaches the ``airflow`` commands run from that shell; a bare
        assignment would stay a shell variable that Airflow never sees.
        """
        return f"export {CONN_ENV_VAR}={shlex.quote(self.connection_uri_env())}"

    def register_client(
        self,
        certificate_pem: str | Iterable[str],
        *,
        client_id: str | None = None,
        name: str = "client.example.se",
    ) -> str:
        """Register another client (or replace one); returns its client id."""
        return self.ctx.registry.register_client(certificate_pem, client_id=client_id, name=name)

    def register_resource(
        self,
        identifier: str,
        scopes: Iterable[str],
        allowed_clients: Iterable[str] | Mapping[str, Iterable[str]] = (),
    ) -> None:
        """Register (or replace) a resource; see :meth:`.Registry.register_resource`."""
        self.ctx.registry.register_resource(identifier, scopes=scopes, allowed_clients=allowed_clients)

    def add_subscription_key(self, key: str) -> None:
        """Accept another subscriber key at the gateway."""
        self.ctx.registry.add_subscription_key(key)

    def start(self) -> Sandbox:
        """Serve in a background thread; returns once uvicorn accepts requests."""
        if self._thread is not None:
            return self
        if self._stopped:
            raise RuntimeError("a stopped Sandbox cannot start again; make a new one")
        install_log_filter()
        uv_config = uvicorn.Config(
            build_app(self.ctx, self.shapes),
            log_config=uvicorn.config.LOGGING_CONFIG if self.config.uvicorn_logging else None,
            log_level=self.config.log_level,
            access_log=self.config.access_log,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(uv_config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="rh-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"rh-sandbox did not start on {self.url}")
            time.sleep(0.01)
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Stop serving and release the port (bounded wait)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(_STOP_TIMEOUT)
        self._socket.close()
        self._server, self._thread, self._stopped = None, None, True

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Sandbox(url={self.url!r}, client_id={self.client_id!r}, state_dir='{self.config.state_dir}')"

    def _register_defaults(self) -> None:
        registry = self.ctx.registry
        registry.register_client(
            self.certificate_pem, client_id=self.client_id, name=state.CLIENT_COMMON_NAME
        )
        registry.register_resource(
            HSAINFO_RESOURCE, scopes=HSAINFO_SCOPES, allowed_clients={self.client_id: HSAINFO_CLIENT_SCOPES}
        )
        registry.register_resource(OTHER_RESOURCE, scopes=OTHER_SCOPES, allowed_clients=[self.client_id])
        registry.add_subscription_key(self.subscription_key)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _public_url(config: SandboxConfig, port: int) -> str:
    if config.public_url:
        return config.public_url.rstrip("/")
    host = config.host
    if host in ("0.0.0.0", "", "::"):  # noqa: S104 - naming the wildcard, not binding to it
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
