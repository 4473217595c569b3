"""What usually fixes a token error: clock skew first, then AD FS MSIS codes, then OAuth 2.0 codes.

Server text is read at most :data:`MAX_HINT_TEXT_CHARS` characters deep, with patterns that are
plain alternations (linear time).
"""

from __future__ import annotations

import re

from airflow_provider_rh.core.fields import describe

_RESOURCE = describe("resource")
_SCOPES = describe("scopes")
_AUTH_URL = describe("auth_url")

#: AD FS error codes seen in ``error_description`` ("MSIS9601: ...").
MSIS_HINTS: dict[str, str] = {
    "MSIS9601": f"The request has no 'resource'. Set {_RESOURCE} on the connection (or pass "
    "resource=...) to the API's resource id, e.g. hsainfoapi.regionhalland.se.",
    "MSIS9602": f"The resource id is not registered at the identity server. Check {_RESOURCE} "
    "against the resource id the region gave you for this API (a bare name, not a URL).",
    "MSIS9329": f"The resource id is not a valid relying party. Check {_RESOURCE}; the API "
    "may use another resource id in this environment (test vs production).",
    "MSIS9321": "This client id is not allowed to get tokens for this resource. Order access to "
    "the API for your client id (and the scopes you need) from the region.",
    "MSIS9622": f"Client authentication failed. Check that {describe('login')} is the client id "
    "the region gave you, that the certificate is the one registered for it, and that "
    f"{_AUTH_URL} (the "
    "assertion audience) is exactly the token endpoint, including its trailing slash.",
    "MSIS9607": "The token endpoint refused the grant. Check grant_type client_credentials is "
    "enabled for this client.",
    "MSIS9608": "The client assertion is invalid or expired; check this host's clock (NTP).",
}

#: OAuth 2.0 errors (RFC 6749 §5.2, RFC 8707 §2) and what to check.
OAUTH_HINTS: dict[str, str] = {
    "invalid_client": f"Client authentication failed: check {describe('login')}, that the "
    f"certificate registered for it matches {describe('certificate')} and "
    f"{describe('private_key')}, the assertion audience ({_AUTH_URL} or "
    f"{describe('assertion_audience')}) and this host's clock.",
    "unauthorized_client": "The client may not use the client credentials grant; ask the region "
    "to enable it for your client id.",
    "invalid_grant": "The server refused the grant or assertion; check this host's clock and the "
    "assertion audience.",
    "invalid_scope": f"A requested scope is unknown or not granted; check {_SCOPES} against "
    "the scopes ordered for this API.",
    "invalid_target": "The resource is unknown to the server or not allowed for this client; "
    f"check {_RESOURCE} (some servers want a URI, RFC 8707).",
    "invalid_request": f"The token request is malformed; check {_RESOURCE} and {_SCOPES}.",
    "unsupported_grant_type": "The server does not support client_credentials at this endpoint; "
    f"check {_AUTH_URL}.",
    "temporarily_unavailable": "The identity server is overloaded or down; retry later.",
    "server_error": "The identity server failed; retry later or contact the region.",
}

#: When the refusal is about the assertion's times, the cause is nearly always this host's clock.
CLOCK_HINT = (
    "The server refused the client assertion's times (it reads them as expired or not yet valid): "
    "check this host's clock (NTP). The assertion is valid for a few minutes from its iat/nbf, so a "
    "clock a few minutes off fails every token request."
)

#: Most characters of server text searched for a hint.
MAX_HINT_TEXT_CHARS = 2000

_MSIS = re.compile(r"\bMSIS\d{4}\b")
# Refusals about the assertion's times, as AD FS, Entra ID (AADSTS700024) and the .NET token
# handlers (IDX10222 not yet valid, IDX10223 expired) word them.
_CLOCK = re.compile(
    r"(?i)\b(?:not yet valid|expired|lifetime|valid time range|time range|clock|skew|nbf|iat|exp|"
    r"notbefore|notonorafter|issued in the future|in the future|IDX1022[23]|AADSTS700024)\b"
)
# ... unless the text is about a certificate's validity, which the clock does not fix.
_CERTIFICATE = re.compile(r"(?i)\bcertificate\b")


def is_clock_problem(description: str | None) -> bool:
    """``True`` when a refusal's text is about the assertion's times (expired, not yet valid)."""
    if not description:
        return False
    text = description[:MAX_HINT_TEXT_CHARS]
    return bool(_CLOCK.search(text)) and not _CERTIFICATE.search(text)


def hint_for(error: str | None, description: str | None) -> str | None:
    """The most specific hint for a token error, or ``None`` when nothing is known."""
    if is_clock_problem(description):
        return CLOCK_HINT
    if description:
        match = _MSIS.search(description[:MAX_HINT_TEXT_CHARS])
        if match and match.group(0) in MSIS_HINTS:
            return MSIS_HINTS[match.group(0)]
    if error:
        return OAUTH_HINTS.get(error)
    return None
