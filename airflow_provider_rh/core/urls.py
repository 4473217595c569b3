"""Which URLs may carry the client assertion, a token or the subscriber key.

Two rules, the same for every URL the provider sends to (API base URL, token endpoint, issuer,
the discovered token endpoint, a next link, a proxy):

- no credentials in the URL (``user:password@``): httpx would replace the bearer header with
  Basic auth, and the password would end up in messages;
- ``https://``, except to a loopback address (``127.0.0.0/8``, ``::1``, ``localhost``, where the
  sandbox and tests run) or when the connection opts in with ``allow_insecure_http``: plain HTTP
  sends the assertion, the token and the subscriber key readable to anyone on the path.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    """``True`` for ``localhost`` and loopback IP addresses (names are not resolved)."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: Characters of a URL's path shown in a message; a longer one is cut, its length said.
SHOWN_PATH_CHARS = 200
_SHOWN_MAX = 100


def shown(url: str) -> str:
    """The URL without credentials or query, safe for a message, its path cut after
    :data:`SHOWN_PATH_CHARS` characters (a server's 100,000-character link is not echoed)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable URL>"
    if not parts.scheme or not parts.netloc:
        # Not URL-shaped: echo what was typed (no query, nothing before an @), not a rebuilt form.
        typed = url.split("?", 1)[0].split("#", 1)[0]
        if "@" in typed:
            typed = "...@" + typed.rpartition("@")[2]
        return typed if len(typed) <= _SHOWN_MAX else typed[:_SHOWN_MAX] + "..."
    if ":" in host:
        host = f"[{host}]"
    path = parts.path
    if len(path) > SHOWN_PATH_CHARS:
        path = f"{path[:SHOWN_PATH_CHARS]}... ({len(url):,} characters in all)"
    return f"{parts.scheme[:20]}://{host[:255]}{port}{path}"


def url_problem(url: str, *, allow_insecure_http: bool = False, proxy: bool = False) -> str | None:
    """What is wrong with ``url`` as a place to send secrets to, or ``None`` if nothing is.

    ``proxy``: plain ``http://`` is the normal way to reach a proxy (HTTPS travels through it in
    a CONNECT tunnel, still encrypted end to end), so only credentials are refused there.
    """
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        return "contains spaces, line breaks or control characters; remove them"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "is not a valid URL (check the host and port)"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an https:// URL"
    if "@" in parts.netloc:
        return (
            "contains credentials (user:password@ before the host); remove them, this provider "
            "authenticates with the certificate, the token and the subscriber key only"
        )
    if parts.scheme == "http" and not proxy and not allow_insecure_http and not is_loopback(parts.hostname):
        return (
            f"uses plain http:// to {parts.hostname}, which would send the client assertion, tokens "
            "and the subscriber key unencrypted; use https://, or set Allow plain HTTP "
            "(extra.allow_insecure_http) to true for a test server you trust"
        )
    return None
