"""Keep secrets out of every message, by construction, in time linear in the text.

Every secret is registered here the moment it is read or received (the connection's subscriber
key, key and passphrase when the configuration is parsed; each client assertion when it is
signed; each access token when it arrives). :func:`redact` replaces with ``***``:

* every registered secret, whole;
* every **fragment** of a registered secret of :data:`FRAGMENT_SECRET_CHARS` (16) or more
  characters that is :data:`FRAGMENT_CHARS` (12) or more characters long: a server quoting the
  signature segment of a client assertion, its ``jti``, or half an access token leaks nothing.
  A JWT's ``jti`` is registered on its own beside the token, since a server may quote it
  decoded. Shorter secrets (4-15 characters) are masked whole only; 12 characters of base64
  are 72 bits, too few to guess anything from and enough to keep ordinary words unmasked;
* anything shaped like a credential (a JWT, a ``Bearer`` credential, an ``Authorization:``
  header value, a PEM block, ``access_token=...``), registered or not.

The work is linear in the text whatever it holds: fragments are found with two dictionaries of
fixed-length pieces of every secret (every 12-character window, and every 6-character probe),
looked up at every 7th position of the text and, on a probe hit, at the 7 windows around it; the
credential patterns start only at a distinctive prefix and give back at most the run they
scanned, so no backtracking can make them quadratic (the class of the 90 KB ``Link`` header).

The registry keeps long-lived secrets (key material, passphrase, subscriber key: ``keep=True``,
and any PEM) for the life of the process, and short-lived ones (assertions, tokens) until they
expire: a JWT's own ``exp`` plus :data:`EXPIRY_GRACE`, other values :data:`DEFAULT_LIFETIME`
after their last registration. At most :data:`MAX_SHORT_LIVED` short-lived values are held (the
soonest to expire go first), so a triggerer that runs for months stays bounded and never forgets
the subscriber key.

:func:`shown` is the one way server text enters a message or a log line: redacted, control
characters escaped (:func:`escape`, so a server cannot forge a log line or clear a terminal)
and cut to a length, saying how much was left out.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable

MASK = "***"

#: Values shorter than this are not treated as secrets (they would blank out ordinary words).
MIN_SECRET_CHARS = 4
#: Any run of this many characters or more taken from a long enough secret is masked.
FRAGMENT_CHARS = 12
#: Secrets at least this long are masked fragment by fragment; shorter ones only whole.
FRAGMENT_SECRET_CHARS = 16
#: Length of the probes looked up while scanning (every ``FRAGMENT_CHARS - PROBE_CHARS + 1``).
PROBE_CHARS = 6
_STEP = FRAGMENT_CHARS - PROBE_CHARS + 1
#: Up to this many distinct prefixes of whole-only secrets, each is found with ``str.find``.
_FIND_KEYS = 64

#: Short-lived values held at once; beyond it the soonest to expire are forgotten first.
MAX_SHORT_LIVED = 2048
#: Seconds a JWT is still masked after its ``exp`` (clock skew, errors raised after expiry).
EXPIRY_GRACE = 600.0
#: Lifetime of a short-lived value that says nothing about its expiry (an opaque token).
DEFAULT_LIFETIME = 24 * 3600.0
#: Longest value decoded to read a JWT's claims; a token is a few KB.
_MAX_JWT_CHARS = 64 * 1024

#: Characters of server text kept by :func:`shown` unless told otherwise.
SERVER_TEXT_CHARS = 500
#: Characters read past the cut, so a secret or a JWT across it is still recognised.
_LOOKAHEAD = 4096

#: Each pattern is linear on any text, without possessive quantifiers (Python 3.10): a match
#: starts only at a distinctive prefix that does not recur inside the run it scans, and what it
#: gives back on failure is bounded by that run, so no text makes one quadratic.
_PATTERNS: tuple[re.Pattern[str], ...] = (
    # PEM bodies (base64, maybe with escaped newlines), whole or cut off by an excerpt.
    re.compile(r"-----BEGIN [A-Z0-9 ]{1,64}-----(?P<secret>(?:[A-Za-z0-9+/=\s:,.\\]|-(?!----)){16,})"),
    # JWS (3 parts) and JWE (5 parts): a base64url JSON header always starts with "eyJ"; only at
    # the start of a run ("eyJeyJeyJ..." would otherwise be tried at every "eyJ").
    re.compile(r"(?<![A-Za-z0-9_-])(?P<secret>eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){2,4})"),
    # "Authorization: <anything>" up to the end of the line or a JSON/form delimiter.
    re.compile(r"(?i)authorization[\"']?\s*[:=]\s*[\"']?(?P<secret>[^\r\n\"',;&}]+)"),
    # Bearer / Basic credentials anywhere (RFC 6750 b64token).
    re.compile(r"(?i)\b(?:bearer|basic)\s+(?P<secret>[A-Za-z0-9\-._~+/]+=*)"),
    # key=value or "key": "value" for names that always carry a secret.
    re.compile(
        r"(?i)(?:access_token|refresh_token|id_token|client_assertion|client_secret|"
        r"subscription[-_ ]?key|ocp-apim-subscription-key|passphrase|password|private_key)"
        r"[\"']?\s*[:=]\s*[\"']?(?P<secret>[^\s\"'&,;}]+)"
    ),
)

#: Unicode 14's control (Cc), format (Cf: bidi overrides, zero-width), separator (Zl, Zp)
#: characters and lone surrogates (Cs), plus the format characters Unicode 15 added.
_CONTROL_RANGES = (
    (0x00, 0x1F), (0x7F, 0x9F), (0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD),
    (0x70F, 0x70F), (0x890, 0x891), (0x8E2, 0x8E2), (0x180E, 0x180E), (0x200B, 0x200F),
    (0x2028, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0xD800, 0xDFFF), (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)  # fmt: skip
_CONTROL = re.compile("[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _CONTROL_RANGES) + "]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: str) -> str:
    """``text`` with control, format and line-separator characters written as escapes.

    ESC becomes ``\\x1b``, CR ``\\r``, LF ``\\n``, a right-to-left override ``\\u202e``: server
    text shown this way can neither start a fake log line nor move the cursor or reorder what
    follows it. Backslashes are left as they are (Windows paths stay readable).
    """
    return _CONTROL.sub(_escape_char, text)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character :func:`escape` would escape."""
    return _CONTROL.search(text) is not None


class _Registry:
    """The secrets to mask, with the indexes that make scanning linear."""

    def __init__(self) -> None:
        self.clock: Callable[[], float] = time.time
        self.lock = threading.Lock()
        self.expiry: dict[str, float] = {}  # value -> expiry (math.inf: kept for good)
        self.heap: list[tuple[float, str]] = []  # short-lived values by expiry (may be stale)
        self.whole: dict[str, dict[str, int]] = {}  # first 4 chars -> {value: refcount}
        self.windows: Counter[str] = Counter()  # every FRAGMENT_CHARS window -> refcount
        self.probes: Counter[str] = Counter()  # every PROBE_CHARS piece -> refcount
        self.short_lived = 0

    # -- registering and forgetting --------------------------------------------------------
    def add(self, value: str, expires_at: float) -> None:
        known = self.expiry.get(value)
        if known is not None and expires_at <= known:
            return
        self.expiry[value] = expires_at
        if math.isinf(expires_at):
            self.short_lived -= known is not None
        else:
            self.short_lived += known is None
            heapq.heappush(self.heap, (expires_at, value))
        if known is None:
            self._index(value, +1)

    def remove(self, value: str) -> None:
        known = self.expiry.pop(value, None)
        if known is not None:
            self.short_lived -= not math.isinf(known)
            self._index(value, -1)

    def prune(self, now: float) -> None:
        """Forget expired values, then the soonest to expire beyond :data:`MAX_SHORT_LIVED`."""
        while self.heap:
            expires_at, value = self.heap[0]
            current = self.expiry.get(value)
            if current is None or current != expires_at:  # forgotten, or extended since
                heapq.heappop(self.heap)
                continue
            if expires_at > now and self.short_lived <= MAX_SHORT_LIVED:
                break
            heapq.heappop(self.heap)
            self.remove(value)
        if len(self.heap) > 4 * MAX_SHORT_LIVED:  # stale heap entries from extensions
            self.heap = [(e, v) for v, e in self.expiry.items() if not math.isinf(e)]
            heapq.heapify(self.heap)

    def _index(self, value: str, delta: int) -> None:
        if len(value) < FRAGMENT_SECRET_CHARS or value.startswith("-----"):
            # Short values whole only; a whole PEM too (its lines are registered on their own,
            # its "-----BEGIN PRIVATE KEY-----" line is no secret and must stay readable).
            bucket = self.whole.setdefault(value[:MIN_SECRET_CHARS], {})
            _count(bucket, value, delta)
            if not bucket:
                del self.whole[value[:MIN_SECRET_CHARS]]
            return
        for table, size in ((self.windows, FRAGMENT_CHARS), (self.probes, PROBE_CHARS)):
            pieces = [value[i : i + size] for i in range(len(value) - size + 1)]
            if delta > 0:
                table.update(pieces)  # Counter.update counts in C
            else:
                for piece in pieces:
                    _count(table, piece, -1)

    # -- scanning ---------------------------------------------------------------------------
    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where registered secrets and their fragments are in ``text``, as (start, end) pairs."""
        found: list[tuple[int, int]] = []
        n = len(text)
        if len(self.whole) <= _FIND_KEYS:  # a few prefixes: str.find (in C) for each
            for key, bucket in self.whole.items():
                i = text.find(key)
                while i != -1:
                    _whole_at(text, i, bucket, found)
                    i = text.find(key, i + 1)
        else:  # many: one dictionary lookup per position; every position matches one prefix
            whole = self.whole
            for i in range(n - MIN_SECRET_CHARS + 1):
                candidates = whole.get(text[i : i + MIN_SECRET_CHARS])
                if candidates:
                    _whole_at(text, i, candidates, found)
        if self.probes and n >= FRAGMENT_CHARS:
            probes, windows = self.probes, self.windows
            span = FRAGMENT_CHARS - PROBE_CHARS
            for q in range(0, n - PROBE_CHARS + 1, _STEP):
                if text[q : q + PROBE_CHARS] in probes:
                    for i in range(max(0, q - span), min(q, n - FRAGMENT_CHARS) + 1):
                        if text[i : i + FRAGMENT_CHARS] in windows:
                            found.append((i, i + FRAGMENT_CHARS))
        return found


def _whole_at(text: str, i: int, bucket: dict[str, int], found: list[tuple[int, int]]) -> None:
    longest = max((len(value) for value in bucket if text.startswith(value, i)), default=0)
    if longest:
        found.append((i, i + longest))


def _count(table: dict[str, int], key: str, delta: int) -> None:
    count = table.get(key, 0) + delta
    if count > 0:
        table[key] = count
    else:
        table.pop(key, None)


_registry = _Registry()


def _variants(value: str) -> set[str]:
    """``value``, stripped, and for a PEM its body on one line (as tools print it)."""
    variants = {value, value.strip()}
    if "\n" in value:
        lines = [line.strip() for line in value.splitlines()]
        body = [line for line in lines if line and not line.startswith("-----")]
        variants.add("".join(body))  # its windows are every line's windows too
    return {variant for variant in variants if len(variant) >= MIN_SECRET_CHARS}


def _jwt_claims(value: str) -> dict[str, object] | None:
    """The claims of a JWS-shaped ``value``, or ``None`` (never an error: it is only a hint)."""
    parts = value.split(".")
    if len(parts) not in (3, 5) or not value.startswith("eyJ") or len(value) > _MAX_JWT_CHARS:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError, RecursionError):
        return None
    return claims if isinstance(claims, dict) else None


def register(value: str | None, *, keep: bool = False, expires_at: float | None = None) -> None:
    """Remember ``value`` as a secret to mask.

    ``keep=True`` for long-lived secrets (key material, passphrase, subscriber key): they are
    never forgotten. Otherwise the value is short-lived: masked until ``expires_at`` (epoch
    seconds), or a JWT's ``exp`` plus :data:`EXPIRY_GRACE`, or :data:`DEFAULT_LIFETIME` from
    now. A PEM is always kept. A JWT's ``jti`` is registered beside it, with the same lifetime.
    """
    if not value:
        return
    now = _registry.clock()
    extra: list[str] = []
    if keep or "-----BEGIN" in value:
        until = math.inf
    elif expires_at is not None:
        until = max(float(expires_at), now) + EXPIRY_GRACE
    else:
        until = now + DEFAULT_LIFETIME
    claims = None if math.isinf(until) else _jwt_claims(value.strip())
    if claims is not None:
        exp = claims.get("exp")
        if expires_at is None and isinstance(exp, int | float) and not isinstance(exp, bool):
            try:
                seconds = float(exp)
            except OverflowError:  # an int beyond any float
                seconds = math.inf
            if math.isfinite(seconds):  # the token's own word, never below the grace from now
                until = max(seconds, now) + EXPIRY_GRACE
        jti = claims.get("jti")
        if isinstance(jti, str):
            extra.append(jti)
    with _registry.lock:
        for variant in _variants(value) | {v for v in extra if len(v) >= MIN_SECRET_CHARS}:
            _registry.add(variant, until)
        _registry.prune(now)


def register_all(values: Iterable[str | None], *, keep: bool = False) -> None:
    """:func:`register` each of ``values``."""
    for value in values:
        register(value, keep=keep)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _secret_spans(text: str) -> list[tuple[int, int]]:
    with _registry.lock:
        _registry.prune(_registry.clock())
        spans = _registry.spans(text)
    for pattern in _PATTERNS:
        spans.extend(match.span("secret") for match in pattern.finditer(text) if match.group("secret"))
    return _merged(spans)


def redact(text: str) -> str:
    """``text`` with every registered secret, every fragment of one, and anything shaped like a
    credential masked; linear in ``len(text)``."""
    if not text:
        return text
    out: list[str] = []
    at = 0
    for start, end in _secret_spans(text):
        out.append(text[at:start])
        out.append(MASK)
        at = end
    out.append(text[at:])
    return "".join(out)


def shown(text: str | None, limit: int = SERVER_TEXT_CHARS) -> str:
    """Server text as it may enter a message or log line: redacted, escaped, at most ``limit``
    characters of it (then ``… (N more characters)``).

    A secret across the cut is still masked whole: the text is scanned a little past ``limit``.
    """
    if not text:
        return ""
    head = text[: limit + _LOOKAHEAD]
    out: list[str] = []
    at = 0
    for start, end in _secret_spans(head):
        if start >= limit:
            break
        out.append(escape(head[at:start]))
        out.append(MASK)
        at = end
    if at < limit:
        out.append(escape(head[at:limit]))
        at = min(limit, len(text))
    rest = len(text) - at
    if rest > 0:
        out.append(f"… ({rest} more characters)")
    return "".join(out)


def clipped(text: str, limit: int, *, tail: int) -> str:
    """``text`` redacted and escaped, with its middle left out beyond ``limit`` characters: the
    first ``limit - tail`` and the last ``tail`` stay (a message ends with what to do)."""
    whole = escape(redact(text))
    if len(whole) <= limit:
        return whole
    left_out = len(whole) - limit
    return f"{whole[: limit - tail]} … ({left_out} characters left out) … {whole[-tail:]}"


def set_clock(clock: Callable[[], float]) -> Callable[[], float]:
    """Use ``clock`` for expiry (tests); returns the clock it replaces."""
    with _registry.lock:
        previous, _registry.clock = _registry.clock, clock
    return previous


def stats() -> dict[str, int]:
    """How much the registry holds (tests and diagnostics): values and index sizes."""
    with _registry.lock:
        return {
            "kept": len(_registry.expiry) - _registry.short_lived,
            "short_lived": _registry.short_lived,
            "windows": len(_registry.windows),
            "probes": len(_registry.probes),
        }


def forget_all() -> None:
    """Empty the registry (tests)."""
    global _registry
    clock = _registry.clock
    with _registry.lock:
        _registry = _Registry()
        _registry.clock = clock
