"""Client authentication with a signed JWT (RFC 7523 §2.2 / §3), checked the way AD FS checks it.

AD FS 2019 finds the signing certificate by the header's ``x5t`` and insists on ``aud`` being its
token endpoint URL exactly; clock skew and replayed ``jti`` are the classic field failures, so
each rule refuses with its own reason (appended to the usual opaque MSIS9622 text).
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Mapping
from typing import Any, TypeGuard

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from airflow_provider_rh.sandbox.errors import invalid_client
from airflow_provider_rh.sandbox.registry import Client

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS256",)


#: joserfc >= 1.4 checks header names and size while extracting and takes a registry for it;
#: older ones check nothing there, which is all this step needs (the signature is checked later).
_EXTRACT_TAKES_REGISTRY = "registry" in inspect.signature(jws.extract_compact).parameters


def _extract(assertion: str) -> jws.CompactSignature:
    if _EXTRACT_TAKES_REGISTRY:
        return jws.extract_compact(assertion.encode(), registry=_registry())
    return jws.extract_compact(assertion.encode())


def _registry() -> jws.JWSRegistry:
    # Clients may add headers joserfc does not know (and x5c makes headers long): accept them.
    registry = jws.JWSRegistry(algorithms=list(ALGORITHMS), strict_check_header=False)
    registry.max_header_length = 16_384
    return registry


class ReplayCache:
    """Remembers each ``jti`` until its assertion expires, so an assertion works only once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}

    def claim(self, key: str, *, until: float, now: float) -> bool:
        """True the first time ``key`` is seen (before ``until``), False on a replay."""
        with self._lock:
            self._seen = {k: exp for k, exp in self._seen.items() if exp >= now}
            if key in self._seen:
                return False
            self._seen[key] = until
            return True


def unverified_header_and_claims(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims before any check: needed to find which client and certificate to use."""
    try:
        obj = _extract(assertion)
        claims = json.loads(obj.payload)
    except (JoseError, ValueError) as exc:
        raise invalid_client("client_assertion is not a compact JWS with a JSON payload") from exc
    if not isinstance(claims, dict):
        raise invalid_client("client_assertion payload is not a JSON object")
    return dict(obj.headers()), claims


def verify_client_assertion(
    assertion: str,
    *,
    client: Client,
    token_url: str,
    now: float,
    clock_skew: float,
    max_lifetime: float,
    replay: ReplayCache,
) -> dict[str, Any]:
    """Check ``assertion`` for ``client``; return its claims or raise :class:`.AdfsError` (400)."""
    header, claims = unverified_header_and_claims(assertion)
    if header.get("alg") not in ALGORITHMS:
        raise invalid_client(f"header 'alg' must be one of {list(ALGORITHMS)}, got {header.get('alg')!r}")
    thumbprint = header.get("x5t")
    if not thumbprint:
        raise invalid_client("header has no 'x5t' (base64url SHA-1 thumbprint of the client certificate)")
    certificate = client.certificates.get(str(thumbprint))
    if certificate is None:
        # A real AD FS answers an assertion signed by a certificate it has not registered for the
        # client (yet) with the generic invalid_client / MSIS9622 text (the reason only shows in
        # its event log); clients in a rotation fall back on exactly that (core/rotation.py).
        raise invalid_client("header 'x5t' matches no certificate registered for this client")
    if certificate.not_valid_after_utc.timestamp() < now:
        raise invalid_client("the registered certificate has expired")
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise invalid_client("the registered certificate has no RSA key (RS256 needs one)")
    # As PEM: joserfc before 1.6 imports only serialized keys.
    key = RSAKey.import_key(
        public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    try:
        valid = jws.validate_compact(_extract(assertion), key)
    except JoseError as exc:
        raise invalid_client(f"signature cannot be verified: {exc.error}") from exc
    if not valid:
        raise invalid_client("signature does not verify with the registered certificate's public key")
    _check_claims(claims, client_id=client.client_id, token_url=token_url)
    exp = _check_times(claims, now=now, clock_skew=clock_skew, max_lifetime=max_lifetime)
    if not replay.claim(f"{client.client_id}:{claims['jti']}", until=exp + clock_skew, now=now):
        raise invalid_client("'jti' was already used; every token request needs a fresh assertion")
    return claims


def _check_claims(claims: Mapping[str, Any], *, client_id: str, token_url: str) -> None:
    # RFC 7523 §3: "iss ... MUST contain the client_id"; "sub ... MUST be the client_id".
    for name in ("iss", "sub"):
        if claims.get(name) != client_id:
            raise invalid_client(f"'{name}' must be the client id")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if token_url not in audiences:
        raise invalid_client(f"'aud' must be the token endpoint URL exactly: {token_url}")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise invalid_client("'jti' is missing")


def _check_times(claims: Mapping[str, Any], *, now: float, clock_skew: float, max_lifetime: float) -> float:
    exp = claims.get("exp")
    if not _is_number(exp):
        raise invalid_client("'exp' is missing or not a number")
    if exp + clock_skew <= now:
        raise invalid_client("the assertion has expired ('exp' is in the past; check the clock)")
    if exp - now > max_lifetime + clock_skew:
        raise invalid_client(f"'exp' is more than {int(max_lifetime)} s ahead")
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if value is None:
            continue
        if not _is_number(value):
            raise invalid_client(f"'{name}' is not a number")
        if value > now + clock_skew:
            raise invalid_client(f"'{name}' is in the future (check the clock)")
    return float(exp)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
