"""A real OpenID Provider for the tests: panva's ``oidc-provider`` (Node), started on 127.0.0.1.

``tests/oidc_server/server.mjs`` registers private_key_jwt clients (public JWKS with ``x5c``) and
RFC 8707 resource servers that get JWT access tokens whose ``aud`` is the resource identifier.
This module starts it as a subprocess, parses its stdout protocol and offers the
``oidc_server`` session fixture (loaded as a pytest plugin from ``tests/conftest.py``).

Behaviour of oidc-provider 9.x worth knowing when writing tests against it:

* client assertion ``aud``: the issuer or the token endpoint URL (exact strings, no trailing-slash
  tolerance; a list is accepted when one member matches);
* the assertion header needs no ``kid``: without one every registered client key with a fitting
  ``kty``/``alg`` is tried, so an ``x5t``-only header (AD FS style) works; a ``kid`` that matches
  no registered key is ``invalid_client``;
* ``resource`` must be an absolute URI (a bare name like ``hsainfoapi.regionhalland.se`` is
  ``invalid_target``) and is matched exactly (``https://x`` and ``https://x/`` differ);
* without ``resource`` an opaque, audience-less token is issued (``expires_in`` 600, no resource
  scopes) unless ``require_resource=True`` makes it ``invalid_target``;
* the minimum access token TTL is 1 second (a positive integer).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from joserfc.jwt import JWTClaimsRegistry

from tests.pki import TestCert, make_cert

SERVER_DIR = Path(__file__).resolve().parent / "oidc_server"
DEFAULT_CLIENT_ID = "5b0c3b9e-6f7a-4d2e-9c1b-2a7f3e4d5c6b"

NPM_CI_TIMEOUT = 300.0
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class ResourceSpec:
    """A resource server (RFC 8707 resource indicator) the OpenID Provider issues tokens for."""

    identifier: str
    scopes: Sequence[str]
    access_token_ttl: int = 3600  # seconds; oidc-provider's minimum is 1


@dataclass(frozen=True)
class ClientSpec:
    """A private_key_jwt client registered with its certificate's public key."""

    client_id: str
    cert: TestCert
    scopes: Sequence[str] | None = None  # resource scopes it may get; None = all
    resources: Sequence[str] | None = None  # resource identifiers it may use; None = all
    kid: str | None = "x5t"  # JWK kid: "x5t" = SHA-1 thumbprint of the cert, None = no kid
    auth_signing_alg: str | None = None  # pin token_endpoint_auth_signing_alg; None = any


DEFAULT_RESOURCES: tuple[ResourceSpec, ...] = (
    ResourceSpec("https://hsainfo.example.se", ("hsainfoapi.read",), 3600),
    ResourceSpec("https://annat.example.se", ("annatapi.read",), 3600),
    ResourceSpec("https://short.example.se", ("short.read",), 2),
)


def cert_thumbprint(cert: TestCert, algorithm: str = "sha1") -> str:
    """base64url (unpadded) digest of the certificate's DER: ``x5t`` (sha1) or ``x5t#S256`` (sha256)."""
    der = cert.cert.public_bytes(serialization.Encoding.DER)
    digest = hashlib.new(algorithm, der).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def public_jwk(cert: TestCert, kid: str | None = "x5t") -> dict[str, Any]:
    """The certificate's public key as a JWK with ``x5c``, ``x5t``, ``use`` and ``alg``."""
    public_key = cert.key.public_key()
    jwk: dict[str, Any]
    if isinstance(public_key, rsa.RSAPublicKey):
        jwk = RSAKey.import_key(public_key).as_dict(private=False)
        jwk["alg"] = "RS256"
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        jwk = ECKey.import_key(public_key).as_dict(private=False)
        jwk["alg"] = "ES256"
    else:  # pragma: no cover - make_cert makes only RSA and EC keys
        raise TypeError(type(public_key))
    jwk.pop("kid", None)
    jwk.update(use="sig", x5c=[cert.public_jwk_x5c], x5t=cert_thumbprint(cert))
    if kid == "x5t":
        jwk["kid"] = cert_thumbprint(cert)
    elif kid is not None:
        jwk["kid"] = kid
    return jwk


class _EventLog:
    """The server's stdout protocol, parsed on the reader thread; thread-safe."""

    def __init__(self) -> None:
        self.issued: list[tuple[str, str]] = []
        self.errors: list[tuple[str, str]] = []
        self.changed = threading.Condition()

    def feed(self, line: str) -> None:
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "TOKEN_ISSUED":
            with self.changed:
                self.issued.append((parts[1], parts[2]))
                self.changed.notify_all()
        elif len(parts) >= 2 and parts[0] == "TOKEN_ERROR":
            with self.changed:
                self.errors.append((parts[1], parts[2] if len(parts) > 2 else "-"))
                self.changed.notify_all()

    def wait(self, entries: list[tuple[str, str]], count: int, timeout: float) -> list[tuple[str, str]]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(entries) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.changed.wait(remaining)
            return list(entries)


@dataclass
class OidcServer:
    """A running oidc-provider; ``client_id``/``cert`` are the first registered client's."""

    issuer: str
    token_endpoint: str
    jwks_uri: str
    client_id: str
    cert: TestCert
    resources: dict[str, list[str]]  # identifier -> scopes
    clients: dict[str, TestCert] = field(default_factory=dict)  # every registered client
    log_path: Path | None = None  # the server's stderr
    _log: _EventLog = field(default_factory=_EventLog, repr=False)

    def token_events(self) -> list[tuple[str, str]]:
        """``(client_id, resource)`` per token issued so far (resource ``"-"`` if none)."""
        with self._log.changed:
            return list(self._log.issued)

    def token_errors(self) -> list[tuple[str, str]]:
        """``(error, client_id)`` per failed token request so far (e.g. ``invalid_client``)."""
        with self._log.changed:
            return list(self._log.errors)

    def wait_for_token_events(self, count: int, timeout: float = 60.0) -> list[tuple[str, str]]:
        """Wait (bounded) until at least ``count`` tokens were issued in total; returns the events.

        The server logs an event before it sends the response, but the reader thread may not have
        parsed the line yet when the client has its token, so tests should wait, not just look.
        ``timeout`` is a safety bound for a busy machine; expected events normally come at once.
        """
        return self._log.wait(self._log.issued, count, timeout)

    def wait_for_token_errors(self, count: int, timeout: float = 60.0) -> list[tuple[str, str]]:
        """Like :meth:`wait_for_token_events`, for failed token requests."""
        return self._log.wait(self._log.errors, count, timeout)

    def jwks(self) -> KeySet:
        """The server's current public signing keys."""
        response = httpx.get(self.jwks_uri, timeout=10)
        response.raise_for_status()
        keys: KeySet = KeySet.import_key_set(response.json())
        return keys

    def verify_access_token(
        self, token: str, *, audience: str | None = None, verify_exp: bool = True
    ) -> dict[str, Any]:
        """Check a JWT access token's signature (server JWKS), ``iss``, ``exp`` and optionally ``aud``.

        Returns the claims; raises a joserfc error if anything does not hold.
        """
        decoded = jwt.decode(token, self.jwks(), algorithms=["RS256"])
        claims: dict[str, Any] = dict(decoded.claims)
        options: dict[str, Any] = {"iss": {"essential": True, "value": self.issuer}}
        if audience is not None:
            options["aud"] = {"essential": True, "value": audience}
        registry = JWTClaimsRegistry(leeway=0, **options)
        if verify_exp:
            registry.validate(claims)
        else:
            registry.validate({k: v for k, v in claims.items() if k not in ("exp", "nbf", "iat")})
        return claims


def _node_modules_ready() -> bool:
    return (SERVER_DIR / "node_modules" / "oidc-provider" / "package.json").is_file()


def ensure_node_modules(timeout: float = NPM_CI_TIMEOUT) -> None:
    """Run ``npm ci`` in tests/oidc_server once if its node_modules is missing (file-locked)."""
    if _node_modules_ready():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not on PATH; the OpenID Provider tests need Node.js and npm (see README)")
    with open(SERVER_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _node_modules_ready():
                result = subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund"],
                    cwd=SERVER_DIR,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
                if result.returncode != 0:
                    raise RuntimeError(f"npm ci failed in {SERVER_DIR}:\n{result.stdout}\n{result.stderr}")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_stdout(stream: IO[str], log: _EventLog, ready: threading.Event, issuer_box: list[str]) -> None:
    for raw in stream:
        line = raw.strip()
        if line.startswith("OIDC_READY ") and not ready.is_set():
            issuer_box.append(line.split(" ", 1)[1])
            ready.set()
        else:
            log.feed(line)
    ready.set()  # EOF: the process ended; wake the starter


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


@contextlib.contextmanager
def start_oidc_server(
    tmp_dir: Path,
    *,
    resources: Sequence[ResourceSpec] = DEFAULT_RESOURCES,
    clients: Sequence[ClientSpec] | None = None,
    issuer_path: str = "",
    token_path: str | None = None,
    require_resource: bool = False,
    strict_scopes: bool = True,
    startup_timeout: float = STARTUP_TIMEOUT,
) -> Iterator[OidcServer]:
    """Start ``node server.mjs`` on 127.0.0.1 (a free port) and stop it on exit.

    ``clients`` defaults to one client, :data:`DEFAULT_CLIENT_ID`, with a fresh RSA certificate.
    ``issuer_path`` mounts the provider below a path (e.g. ``"/adfs"``), ``token_path`` moves the
    token endpoint (e.g. ``"/oauth2/token/"``, AD FS style, trailing slash included).
    ``strict_scopes`` makes a requested scope the resource does not grant ``invalid_scope``
    (oidc-provider itself would silently drop it).
    """
    ensure_node_modules()
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH; the OpenID Provider tests need Node.js (see README)")
    if clients is None:
        clients = [ClientSpec(DEFAULT_CLIENT_ID, make_cert())]
    if not clients:
        raise ValueError("at least one client is needed")

    tmp_dir.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "port": 0,
        "issuer_path": issuer_path,
        "require_resource": require_resource,
        "strict_scopes": strict_scopes,
        "clients": [
            {
                "client_id": c.client_id,
                "jwks": {"keys": [public_jwk(c.cert, c.kid)]},
                **({"scopes": list(c.scopes)} if c.scopes is not None else {}),
                **({"resources": list(c.resources)} if c.resources is not None else {}),
                **({"token_endpoint_auth_signing_alg": c.auth_signing_alg} if c.auth_signing_alg else {}),
            }
            for c in clients
        ],
        "resources": [
            {"identifier": r.identifier, "scopes": list(r.scopes), "access_token_ttl": r.access_token_ttl}
            for r in resources
        ],
    }
    if token_path:
        config["token_path"] = token_path
    config_path = tmp_dir / "oidc-config.json"
    config_path.write_text(json.dumps(config, indent=2))
    log_path = tmp_dir / "oidc-server.log"

    env = {**os.environ, "NODE_ENV": "test", "NO_COLOR": "1"}
    with open(log_path, "w") as stderr_file:
        process = subprocess.Popen(
            [node, str(SERVER_DIR / "server.mjs"), str(config_path)],
            cwd=SERVER_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            text=True,
            bufsize=1,
            env=env,
        )
    assert process.stdout is not None
    log = _EventLog()
    issuer_box: list[str] = []
    ready = threading.Event()
    reader = threading.Thread(
        target=_read_stdout,
        args=(process.stdout, log, ready, issuer_box),
        name="oidc-server-stdout",
        daemon=True,
    )
    reader.start()
    try:
        if not ready.wait(startup_timeout) or not issuer_box:
            _stop(process)
            raise RuntimeError(
                f"oidc-provider did not become ready within {startup_timeout}s "
                f"(exit code {process.poll()}):\n{log_path.read_text()}"
            )
        issuer = issuer_box[0]
        discovery = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
        discovery.raise_for_status()
        metadata = discovery.json()
        server = OidcServer(
            issuer=metadata["issuer"],
            token_endpoint=metadata["token_endpoint"],
            jwks_uri=metadata["jwks_uri"],
            client_id=clients[0].client_id,
            cert=clients[0].cert,
            resources={r.identifier: list(r.scopes) for r in resources},
            clients={c.client_id: c.cert for c in clients},
            log_path=log_path,
            _log=log,
        )
        yield server
    finally:
        _stop(process)
        reader.join(timeout=STOP_TIMEOUT)
        process.stdout.close()


@pytest.fixture(scope="session")
def oidc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcServer]:
    """One oidc-provider for the whole session with the default client and resources.

    Shared state: the event log accumulates across tests, so compare counts before and after.
    """
    with start_oidc_server(tmp_path_factory.mktemp("oidc")) as server:
        yield server
