"""Client assertions: the JWT a client signs to authenticate at the token endpoint.

RFC 7523 §2.2 and §3 ("private_key_jwt" in OpenID Connect Core §9), as AD FS wants it: header
``alg`` RS256 with ``x5t`` (base64url SHA-1 thumbprint of the certificate; AD FS 2019 requires
it), claims ``iss`` = ``sub`` = client id, ``aud`` = the token endpoint, a fresh ``jti``.
A pure function: the clock and the id source are parameters, so tests pin them.
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from airflow_provider_rh.core.credentials import SigningCredentials
from airflow_provider_rh.exceptions import ConfigurationError

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

#: Header references a server may use to find the client's certificate.
HEADER_REFERENCES = ("x5t", "x5t#S256", "kid")

#: Seconds ``iat``/``nbf`` are set in the past, so a server whose clock runs behind ours
#: does not see an assertion from the future (a classic AD FS failure).
CLOCK_SKEW_ALLOWANCE = 60

#: Lifetime of an assertion. RFC 7523 wants it short; AD FS refuses more than 10 minutes.
MAX_LIFETIME = 600
DEFAULT_LIFETIME = 300

SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


def parse_header_references(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Parse ``extra.assertion_header`` (``x5t``, ``x5t#S256``, ``kid`` or a comma list)."""
    if value is None or value == "":
        return ("x5t",)
    items = value.split(",") if isinstance(value, str) else list(value)
    refs = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    unknown = [ref for ref in refs if ref not in HEADER_REFERENCES]
    if unknown or not refs:
        raise ConfigurationError(
            f"extra.assertion_header has unknown value(s) {unknown!r}; use one or more of "
            f"{', '.join(HEADER_REFERENCES)} separated by commas.",
            field="assertion_header",
        )
    return refs


def build_client_assertion(
    credentials: SigningCredentials,
    *,
    client_id: str,
    audience: str,
    header_references: Sequence[str] = ("x5t",),
    algorithm: str | None = None,
    lifetime: int = DEFAULT_LIFETIME,
    now: Callable[[], float] = time.time,
    new_jti: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> str:
    """Sign a client assertion JWT for one token request.

    Call it once per HTTP attempt: the ``jti`` must be fresh each time, retries included,
    because servers (AD FS among them) accept a ``jti`` only once.
    """
    if not 0 < lifetime <= MAX_LIFETIME:
        raise ConfigurationError(
            f"Client assertion lifetime must be 1..{MAX_LIFETIME} seconds, got {lifetime}.",
            field="assertion_lifetime",
        )
    alg = algorithm or credentials.default_algorithm
    if alg not in SIGNING_ALGORITHMS:
        raise ConfigurationError(
            f"Unsupported assertion algorithm {alg!r}; use one of {', '.join(SIGNING_ALGORITHMS)}.",
            field="assertion_algorithm",
        )
    issued_at = int(now())
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    for ref in header_references:
        if ref == "x5t":
            header["x5t"] = credentials.x5t
        elif ref == "x5t#S256":
            header["x5t#S256"] = credentials.x5t_s256
        elif ref == "kid":
            # The SHA-1 thumbprint is what Entra ID and AD FS publish as the key id.
            header["kid"] = credentials.x5t
    claims = {
        # RFC 7523 §3: "The JWT MUST contain an iss (issuer) claim" = the client id for client auth.
        "iss": client_id,
        # "The JWT MUST contain a sub (subject) claim" = the client id (§2.2).
        "sub": client_id,
        # "The JWT MUST contain an aud (audience) claim" identifying the authorization server.
        "aud": audience,
        "jti": new_jti(),
        "iat": issued_at - CLOCK_SKEW_ALLOWANCE,
        "nbf": issued_at - CLOCK_SKEW_ALLOWANCE,
        "exp": issued_at + lifetime,
    }
    key = _jose_key(credentials, alg)
    return jwt.encode(header, claims, key, algorithms=[alg])


#: The signing key of each credentials object, imported once: parsing a private key costs about
#: 30 ms of CPU, and a client signs an assertion for every token request. Keyed by the object's
#: id and dropped when the object goes (a weak reference), so rotated credentials never mix.
_KEYS: dict[int, tuple[weakref.ref[SigningCredentials], RSAKey | ECKey]] = {}
_KEYS_LOCK = threading.Lock()


def _jose_key(credentials: SigningCredentials, alg: str) -> RSAKey | ECKey:
    from cryptography.hazmat.primitives.asymmetric import ec

    if isinstance(credentials.key, ec.EllipticCurvePrivateKey):
        if not alg.startswith("ES"):
            raise ConfigurationError(
                f"An EC key signs with ES256/ES384/ES512, not {alg}.", field="assertion_algorithm"
            )
    elif alg.startswith("ES"):
        raise ConfigurationError(f"An RSA key signs with RS*/PS*, not {alg}.", field="assertion_algorithm")
    return _imported(credentials)


def _imported(credentials: SigningCredentials) -> RSAKey | ECKey:
    """``credentials.key`` as a joserfc key, imported on first use and kept with the object."""
    ident = id(credentials)
    with _KEYS_LOCK:
        cached = _KEYS.get(ident)
        if cached is not None and cached[0]() is credentials:
            return cached[1]
    key = _import(credentials)

    def forget(_: object, ident: int = ident) -> None:
        with _KEYS_LOCK:
            entry = _KEYS.get(ident)
            if entry is not None and entry[0]() is None:
                del _KEYS[ident]

    with _KEYS_LOCK:
        _KEYS[ident] = (weakref.ref(credentials, forget), key)
    return key


def _import(credentials: SigningCredentials) -> RSAKey | ECKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    # joserfc before 1.6 imports only serialized keys, not cryptography's key objects; PKCS#8
    # PEM works on every joserfc >= 1.0 and never leaves memory.
    pem = credentials.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    if isinstance(credentials.key, ec.EllipticCurvePrivateKey):
        ec_key: ECKey = ECKey.import_key(pem)
        return ec_key
    rsa_key: RSAKey = RSAKey.import_key(pem)
    return rsa_key
