"""Access tokens: parsing the token response and caching one token per resource.

"En biljett per resursid": the region issues one token per resource id, so the cache key is
(token endpoint, client id, signing certificate, resource, scopes). The certificate's thumbprint
is in the key so that a connection with other (or broken) credentials never borrows a token
another connection earned; callers load and check their credentials before asking. A token is
renewed shortly before it expires, with a margin that scales down for short-lived tokens, and
concurrent threads asking for the same key cause a single token request.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from airflow_provider_rh.core.fields import describe
from airflow_provider_rh.exceptions import TokenError

#: Renew at most this many seconds before expiry ...
MAX_RENEWAL_MARGIN = 120.0
#: ... and at most this share of the token's lifetime, so a 10 s token is still used for 9 s.
RENEWAL_MARGIN_SHARE = 0.1

#: Lifetime assumed when a server leaves ``expires_in`` out (RFC 6749 makes it RECOMMENDED).
DEFAULT_EXPIRES_IN = 300.0
#: Longest lifetime believed: a year. Anything longer is a broken server, not a real token.
MAX_EXPIRES_IN = 366 * 24 * 3600.0
#: Longest access token accepted. Real JWTs are a few KB; gateways refuse headers over 8-64 KB.
MAX_ACCESS_TOKEN_CHARS = 32 * 1024


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and when to stop using it (monotonic clock)."""

    value: str = field(repr=False)
    expires_in: float
    obtained_at: float
    scope: str | None = None
    token_type: str = "Bearer"

    @property
    def expires_at(self) -> float:
        return self.obtained_at + self.expires_in

    @property
    def renew_at(self) -> float:
        margin = min(MAX_RENEWAL_MARGIN, self.expires_in * RENEWAL_MARGIN_SHARE)
        return self.expires_at - margin

    def is_fresh(self, now: float) -> bool:
        return now < self.renew_at

    def __repr__(self) -> str:
        return f"AccessToken(value=<redacted>, expires_in={self.expires_in}, scope={self.scope!r})"


def _refuse(message: str) -> TokenError:
    return TokenError(f"The token endpoint's answer is unusable: {message}")


def _check_access_token(token: Any) -> str:
    if not isinstance(token, str):
        kind = "missing" if token is None else f"a JSON {type(token).__name__}, not a string"
        raise _refuse(
            f"access_token is {kind}. Check that {describe('auth_url')} is the OAuth token endpoint."
        )
    if not token:
        raise _refuse("access_token is empty.")
    if len(token) > MAX_ACCESS_TOKEN_CHARS:
        raise _refuse(
            f"access_token is {len(token)} characters long, more than the {MAX_ACCESS_TOKEN_CHARS} "
            "an HTTP header can carry."
        )
    # A bearer token goes into a header as it is (RFC 6750 b64token): visible ASCII only, so a
    # line break cannot split the header or reach a transport error message.
    if not all(0x21 <= ord(char) <= 0x7E for char in token):
        raise _refuse(
            "access_token contains spaces, line breaks, control or non-ASCII characters, which "
            "cannot be sent in an Authorization header."
        )
    return token


def _check_expires_in(raw: Any) -> float:
    if raw is None or raw == "":
        return DEFAULT_EXPIRES_IN
    shown = repr(raw) if len(repr(raw)) <= 40 else repr(raw)[:40] + "..."
    if isinstance(raw, bool):
        raise _refuse(f"expires_in is {raw!r}, not a number of seconds.")
    try:
        expires_in = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise _refuse(f"expires_in is {shown}, not a number of seconds.") from None
    if not math.isfinite(expires_in):
        raise _refuse(f"expires_in is {shown}, not a finite number of seconds.")
    if expires_in <= 0:
        raise _refuse(f"expires_in is {shown}; the token would already be expired.")
    if expires_in > MAX_EXPIRES_IN:
        raise _refuse(f"expires_in is {shown} seconds, more than a year; the server is misbehaving.")
    return expires_in


def parse_token_response(payload: Any, *, obtained_at: float) -> AccessToken:
    """Read an RFC 6749 §5.1 success response; refuse every field that could not be used.

    ``expires_in`` may be a number or a string; NaN, infinity, negative or absurd lifetimes are
    refused (each would mean a token request per call, or a token used forever), and so is an
    access token that could not be sent as a header.
    """
    if not isinstance(payload, Mapping):
        raise _refuse("it is not a JSON object.")
    token = _check_access_token(payload.get("access_token"))
    token_type = payload.get("token_type") or "Bearer"
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        shown = repr(token_type)[:40]
        raise _refuse(f"token_type is {shown}; only bearer tokens are supported.")
    expires_in = _check_expires_in(payload.get("expires_in"))
    scope = payload.get("scope")
    return AccessToken(
        value=token,
        expires_in=expires_in,
        obtained_at=obtained_at,
        scope=scope if isinstance(scope, str) else None,
    )


class TokenKey(NamedTuple):
    """What a cached token is valid for; ``signer`` is the certificate's SHA-256 thumbprint."""

    token_url: str
    client_id: str
    signer: str
    resource: str | None
    scopes: str | None


def normalize_scopes(scopes: str | list[str] | tuple[str, ...] | None) -> str | None:
    """Space-separated, order kept, duplicates dropped; ``None`` when there are none."""
    if scopes is None:
        return None
    items = scopes.split() if isinstance(scopes, str) else [s for item in scopes for s in item.split()]
    unique = list(dict.fromkeys(items))
    return " ".join(unique) or None


class TokenCache:
    """Thread-safe cache of access tokens with single-flight renewal per key."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[TokenKey, AccessToken] = {}
        self._locks: dict[TokenKey, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock_for(self, key: TokenKey) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key: TokenKey) -> AccessToken | None:
        """The cached token if it is still fresh."""
        token = self._tokens.get(key)
        if token is not None and token.is_fresh(self._clock()):
            return token
        return None

    def get_or_fetch(self, key: TokenKey, fetch: Callable[[], AccessToken]) -> AccessToken:
        """Return a fresh token, calling ``fetch`` at most once across concurrent callers."""
        token = self.get(key)
        if token is not None:
            return token
        with self._lock_for(key):
            token = self.get(key)  # another thread may have fetched it while we waited
            if token is None:
                token = fetch()
                self._tokens[key] = token
            return token

    def put(self, key: TokenKey, token: AccessToken) -> None:
        self._tokens[key] = token

    def invalidate(self, key: TokenKey, token: AccessToken | None = None) -> None:
        """Drop the cached token (only if it is still ``token``, when given): the server refused it."""
        with self._guard:
            current = self._tokens.get(key)
            if current is not None and (token is None or current.value == token.value):
                del self._tokens[key]

    def clear(self) -> None:
        with self._guard:
            self._tokens.clear()

    def now(self) -> float:
        return self._clock()

    def __len__(self) -> int:
        return len(self._tokens)
