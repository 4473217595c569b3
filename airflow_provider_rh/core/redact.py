"""Keep secrets out of every message, by construction.

Every secret is registered here the moment it is read or received (the connection's subscriber
key, key and passphrase when the configuration is parsed; each client assertion when it is
signed; each access token when it arrives). :func:`redact` replaces those values, and anything
shaped like one (a JWT, a ``Bearer`` credential, an ``Authorization:`` header value, a PEM
block, ``access_token=...``), with ``***``. The exception base class runs every message and
every text attribute through it, so a server that echoes a secret back cannot put it into an
error, whichever call site builds the error.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

MASK = "***"

#: Values shorter than this are not treated as secrets (they would blank out ordinary words).
MIN_SECRET_CHARS = 4
#: The registry forgets the oldest values beyond this many (tokens and assertions accumulate).
MAX_REGISTERED = 4096

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM bodies (base64, maybe with escaped newlines), whole or cut off by an excerpt.
    (re.compile(r"(-----BEGIN [A-Z0-9 ]+-----)(?:[A-Za-z0-9+/=\s:,.\\]|-(?!----)){16,}"), r"\1" + MASK),
    # JWS (3 parts) and JWE (5 parts): a base64url JSON header always starts with "eyJ".
    (re.compile(r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){2,4}"), MASK),
    # "Authorization: <anything>" up to the end of the line or a JSON/form delimiter.
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)[^\r\n\"',;&}]+"), r"\1" + MASK),
    # Bearer / Basic credentials anywhere (RFC 6750 b64token).
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9\-._~+/]+=*"), r"\1\2" + MASK),
    # key=value or "key": "value" for names that always carry a secret.
    (
        re.compile(
            r"(?i)((?:access_token|refresh_token|id_token|client_assertion|client_secret|"
            r"subscription[-_ ]?key|ocp-apim-subscription-key|passphrase|password|private_key)"
            r"[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}]+"
        ),
        r"\1" + MASK,
    ),
)

_lock = threading.Lock()
_secrets: OrderedDict[str, None] = OrderedDict()


def register(value: str | None) -> None:
    """Remember ``value`` as a secret; a PEM also as its body on one line, as tools print it."""
    if not value:
        return
    variants = {value, value.strip()}
    if "\n" in value:
        body = "".join(
            line.strip() for line in value.splitlines() if line.strip() and not line.startswith("-----")
        )
        variants.add(body)
        variants.update(line.strip() for line in value.splitlines() if len(line.strip()) >= 16)
    with _lock:
        for variant in variants:
            if len(variant) >= MIN_SECRET_CHARS:
                _secrets[variant] = None
                _secrets.move_to_end(variant)
        while len(_secrets) > MAX_REGISTERED:
            _secrets.popitem(last=False)


def redact(text: str) -> str:
    """``text`` with every registered secret and anything shaped like a credential masked."""
    if not text:
        return text
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def forget_all() -> None:
    """Empty the registry (tests)."""
    with _lock:
        _secrets.clear()
