"""Every error this provider raises, in one tree.

::

    RegionHallandError
    ├── ConfigurationError        a connection field or argument is wrong; ``field`` names it
    │   ├── CertificateError      certificate/key unreadable, mismatched, expired
    │   └── WindowError           a run's time window has no start, or a query reads an empty interval
    ├── TokenError                the token endpoint refused; ``error``, ``error_description``, ``hint``
    ├── DiscoveryError            ``.well-known/openid-configuration`` unusable
    ├── TransportError            the server could not be reached (DNS, refused, timeout, TLS)
    ├── ApiError                  the API answered non-2xx after retries; ``status_code``, ``url``
    ├── UnsafeUrlError            a URL has credentials, plain http off loopback, or leaves the host
    ├── PaginationError           pages repeat, never end, or have an unexpected shape
    └── PayloadTooLargeError      a response is bigger than allowed (XCom guard, response size cap)

Errors carry their context as attributes; nobody needs to parse the message. Messages never
contain a secret, by construction: the base class runs the message and every text attribute
through :func:`airflow_provider_rh.core.redact.shown`, which masks every registered secret (key
material, passphrase, subscriber key, client assertions, tokens), every fragment of one, and
anything shaped like a credential, whichever server text or call site the message came from.
The same call escapes control characters (a message is one line: the provider's own messages
hold no line breaks, so a server's ``\r\n`` or ESC shows as ``\r\n`` or ``\x1b`` and cannot forge
a log line) and leaves out the middle of a message beyond :data:`MESSAGE_CHARS` (its end, which
says what to do, stays).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_rh.core.redact import clipped, redact

#: Longest message or text attribute: the provider's words plus an excerpt of server text
#: (itself cut at 500 characters) fit many times over; a listing of a hostile page's keys not.
MESSAGE_CHARS = 4000
#: Characters kept from the end of an overlong message.
_TAIL_CHARS = 1000


class RegionHallandError(Exception):
    """Base class of every error raised by ``airflow_provider_rh``; never carries a secret."""

    def __init__(self, message: str = "", **context: Any) -> None:
        super().__init__(clipped(str(message), MESSAGE_CHARS, tail=_TAIL_CHARS))
        for name, value in context.items():
            if isinstance(value, str):
                value = clipped(value, MESSAGE_CHARS, tail=_TAIL_CHARS)
            setattr(self, name, value)

    def __str__(self) -> str:
        # Again at render time: a secret registered after construction is masked too.
        return redact(super().__str__())


class ConfigurationError(RegionHallandError, ValueError):
    """A connection field or argument is missing or invalid; ``field`` names it."""

    field: str | None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)


class CertificateError(ConfigurationError):
    """The certificate or private key cannot be used for signing client assertions."""


class WindowError(ConfigurationError):
    """A run's time window cannot be computed, or the query reads an empty data interval.

    ``field`` names the argument to change (``initial``, ``query_params``, ...).
    """


class TokenError(RegionHallandError):
    """The token endpoint refused to issue a token.

    ``error`` and ``error_description`` are the server's own words (RFC 6749 §5.2); ``hint``
    says what usually fixes it (AD FS ``MSIS`` codes and OAuth error codes are recognised).
    """

    status_code: int | None
    error: str | None
    error_description: str | None
    hint: str | None
    token_url: str | None
    resource: str | None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error: str | None = None,
        error_description: str | None = None,
        hint: str | None = None,
        token_url: str | None = None,
        resource: str | None = None,
    ) -> None:
        super().__init__(
            message,
            status_code=status_code,
            error=error,
            error_description=error_description,
            hint=hint,
            token_url=token_url,
            resource=resource,
        )


class DiscoveryError(RegionHallandError):
    """The OpenID discovery document could not be fetched or has no ``token_endpoint``."""

    url: str | None

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message, url=url)


class TransportError(RegionHallandError):
    """A server could not be reached (connection refused, DNS, timeout, TLS) after retries."""

    url: str | None

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message, url=url)


class ApiError(RegionHallandError):
    """The API answered with a non-success status after any retries."""

    status_code: int
    url: str
    body_excerpt: str

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        url: str,
        body_excerpt: str = "",
    ) -> None:
        super().__init__(message, status_code=status_code, url=url, body_excerpt=body_excerpt)


class UnsafeUrlError(RegionHallandError, ValueError):
    """A URL has credentials in it, is plain http off loopback, or leaves the connection's host."""

    url: str

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message, url=url)


class PaginationError(RegionHallandError):
    """A paginated endpoint misbehaves: a page repeats, it never ends, or a page has no records."""


class PayloadTooLargeError(RegionHallandError):
    """A response is larger than allowed: the operator's XCom guard, or the response size cap."""

    size: int
    limit: int

    def __init__(self, message: str, *, size: int, limit: int) -> None:
        super().__init__(message, size=size, limit=limit)
