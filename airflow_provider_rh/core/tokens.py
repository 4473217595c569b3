"""Access tokens: parsing the token response and caching one token per resource.

"En biljett per resursid": the region issues one token per resource id, so the cache key is
(token endpoint, client id, resource, scopes). A token is renewed shortly before it expires,
with a margin that scales down for short-lived tokens, and concurrent threads asking for the
same key cause a single token request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from airflow_provider_rh.exceptions import TokenError

#: Renew at most this many seconds before expiry ...
MAX_RENEWAL_MARGIN = 120.0
#: ... and at most this share of the token's lifetime, so a 10 s token is still used for 9 s.
RENEWAL_MARGIN_SHARE = 0.1

#: Lifetime assumed when a server leaves ``expires_in`` out (RFC 6749 makes it RECOMMENDED).
DEFAULT_EXPIRES_IN = 300.0


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


def parse_token_response(payload: Any, *, obtained_at: float) -> AccessToken:
    """Read an RFC 6749 §5.1 success response; ``expires_in`` may be a number or a string."""
    if not isinstance(payload, Mapping):
        raise TokenError("The token endpoint answered 200 but not with a JSON object.")
    token = payload.get("access_token")
    if not isinstance(token, str) or not token:
        raise TokenError("The token endpoint answered 200 without an access_token.")
    token_type = str(payload.get("token_type") or "Bearer")
    if token_type.lower() != "bearer":
        raise TokenError(
            f"The token endpoint issued a {token_type!r} token; only bearer tokens are supported."
        )
    raw = payload.get("expires_in")
    if raw is None or raw == "":
        expires_in = DEFAULT_EXPIRES_IN
    else:
        try:
            expires_in = float(raw)
        except (TypeError, ValueError):
            raise TokenError(f"The token endpoint sent expires_in={raw!r}, which is not a number.") from None
        if expires_in <= 0:
            raise TokenError(f"The token endpoint sent expires_in={raw!r}; the token is already expired.")
    scope = payload.get("scope")
    return AccessToken(
        value=token,
        expires_in=expires_in,
        obtained_at=obtained_at,
        scope=scope if isinstance(scope, str) else None,
    )


class TokenKey(NamedTuple):
    token_url: str
    client_id: str
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
