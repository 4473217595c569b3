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
    ├── UnsafeUrlError            a URL points off the connection's scheme and host
    ├── PaginationError           pages repeat, never end, or have an unexpected shape
    └── PayloadTooLargeError      a response is too big for XCom

Errors carry their context as attributes; nobody needs to parse the message. Messages never
contain a secret: no key material, passphrase, subscriber key, client assertion or token.
"""

from __future__ import annotations


class RegionHallandError(Exception):
    """Base class of every error raised by ``airflow_provider_rh``."""


class ConfigurationError(RegionHallandError, ValueError):
    """A connection field or argument is missing or invalid; ``field`` names it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.error_description = error_description
        self.hint = hint
        self.token_url = token_url
        self.resource = resource


class DiscoveryError(RegionHallandError):
    """The OpenID discovery document could not be fetched or has no ``token_endpoint``."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class TransportError(RegionHallandError):
    """A server could not be reached (connection refused, DNS, timeout, TLS) after retries."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class ApiError(RegionHallandError):
    """The API answered with a non-success status after any retries."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        url: str,
        body_excerpt: str = "",
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.url = url
        self.body_excerpt = body_excerpt


class UnsafeUrlError(RegionHallandError, ValueError):
    """A URL leaves the connection's scheme and host; the token is never sent there."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class PaginationError(RegionHallandError):
    """A paginated endpoint misbehaves: a page repeats, it never ends, or a page has no records."""


class PayloadTooLargeError(RegionHallandError):
    """A response is larger than the operator's XCom size guard allows."""

    def __init__(self, message: str, *, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit
