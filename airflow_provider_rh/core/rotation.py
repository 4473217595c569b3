"""Certificate rotation: two certificates in one connection, and expiry that reaches people.

Registration takes the region days, so a connection may hold the *next* certificate beside the
*current* one (``extra.next_certificate`` ... or ``extra.next_certificate_path``). Token requests
sign with the next certificate once AD FS accepts it and with the current one until then:

* AD FS refusing the next certificate as an unknown client credential falls back to the current
  one at once, in the same task; the fallback is logged once per process, and the next
  certificate is tried again only after :data:`NEXT_RETRY_SECONDS` (per process, injectable clock),
  not on every token request;
* any other refusal (resource, scope, server error, ...) is reported as it would be without a
  rotation;
* once the current certificate has expired, only the next one is used, so runs go on without
  anyone editing the connection.

Tokens stay cached per certificate actually used (``TokenKey.signer``). Expiry is reported in
days per certificate: tasks log a warning inside ``extra.expiry_warning_days``, and
:func:`check_connection` backs the scheduled certificate check (``docs/rotation.md``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from airflow_provider_rh.core.credentials import SigningCredentials, check_validity, load_credentials
from airflow_provider_rh.core.fields import describe
from airflow_provider_rh.exceptions import CertificateError, TokenError

if TYPE_CHECKING:
    from airflow_provider_rh.core.config import ClientConfig

log = logging.getLogger(__name__)

T = TypeVar("T")

CURRENT = "current"
NEXT = "next"

#: Seconds after AD FS refused the next certificate before this process tries it again.
NEXT_RETRY_SECONDS = 15 * 60.0

#: The next certificate's fields, by the usual field each stands in for.
NEXT_FIELDS: dict[str, str] = {
    "certificate": "next_certificate",
    "private_key": "next_private_key",
    "private_key_passphrase": "next_private_key_passphrase",
    "certificate_path": "next_certificate_path",
}

#: What a real AD FS answers when the client assertion is signed by a certificate it does not
#: have for the client (not registered yet, or removed): every failed client authentication gets
#: HTTP 400 with ``{"error": "invalid_client", "error_description": "MSIS9622: Client
#: authentication failed. Please verify the credential provided for client authentication is
#: valid."}`` (as reported in AzureAD/microsoft-authentication-library-for-js#6915 and #6281); the
#: precise reason is only in the AD FS admin event log. Entra ID names it: ``AADSTS700027: The
#: certificate with identifier used to sign the client assertion is not registered on
#: application`` (keycloak/keycloak#19425). So an ``invalid_client`` for the next certificate
#: means "not accepted (yet)": the current one signs the same claims next, and a refusal for
#: another reason (audience, clock, client id) shows there too and is reported as it always was.
NOT_REGISTERED_MARKERS = ("MSIS9622", "AADSTS700027")

_NOT_REGISTERED = re.compile(r"\b(?:" + "|".join(NOT_REGISTERED_MARKERS) + r")\b")
# A server's own error code in a description: another code names another cause.
_SERVER_CODE = re.compile(r"\b(?:MSIS\d{4}|AADSTS\d+)\b")


def means_not_registered(error: TokenError) -> bool:
    """True when the token endpoint refused the client credential itself (an unknown certificate).

    That is AD FS's MSIS9622 or Entra ID's AADSTS700027, or an ``invalid_client`` without a
    server code (Keycloak, Duende, oidc-provider). The body decides, never the status: AD FS
    answers HTTP 400, most other servers 401 (RFC 6749 §5.2 allows either), and some proxies 200.
    Any other refusal (another MSIS/AADSTS code, a resource or scope error) is not.
    """
    description = error.error_description or ""
    if _NOT_REGISTERED.search(description):
        return True
    return error.error == "invalid_client" and _SERVER_CODE.search(description) is None


def utc_from_timestamp(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


@dataclass(frozen=True)
class Signer:
    """One certificate of a connection and its role in a rotation."""

    role: str
    credentials: SigningCredentials

    @property
    def name(self) -> str:
        return f"{self.role} certificate"

    @property
    def not_valid_after(self) -> dt.datetime:
        return self.credentials.certificate.not_valid_after_utc

    def days_left(self, now: dt.datetime) -> int:
        """Whole days until expiry; negative once expired."""
        return (self.not_valid_after - now).days

    def expired(self, now: dt.datetime) -> bool:
        return now > self.not_valid_after

    def usable(self, now: dt.datetime) -> bool:
        cert = self.credentials.certificate
        return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc

    def describe(self) -> str:
        """Public facts only: subject, thumbprint, expiry date."""
        return (
            f"{self.name} (subject {self.credentials.subject}, x5t {self.credentials.x5t}, "
            f"valid until {self.not_valid_after:%Y-%m-%d})"
        )


@dataclass(frozen=True)
class Signers:
    """The connection's certificates: the current one, and during a rotation the next one."""

    current: Signer
    next: Signer | None = None
    next_error: CertificateError | None = None
    """Set when next-certificate fields are filled but cannot be used (runs keep the current one)."""

    @property
    def all(self) -> list[Signer]:
        return [self.current] + ([self.next] if self.next else [])


def has_next(config: ClientConfig) -> bool:
    return bool(config.next_certificate or config.next_private_key or config.next_certificate_path)


def load_signers(config: ClientConfig, *, now: dt.datetime) -> Signers:
    """Load the current certificate (and the next one, during a rotation) from ``config``.

    Without a next certificate the current one is checked as it always was (an expired one is
    an error). During a rotation an expired current certificate is kept: the next may take over.
    A next certificate that cannot be used (unreadable, malformed, not matching its key, expired,
    or the current one itself) is kept as ``next_error``, not raised: runs the current certificate
    can serve go on, every task logs the error at its start, and Test fails naming the field.
    """
    rotating = has_next(config)
    current = load_credentials(
        certificate=config.certificate,
        private_key=config.private_key,
        passphrase=config.private_key_passphrase,
        certificate_path=config.certificate_path,
        now=now,
        warn_within_days=None,
        check_dates=not rotating,
    )
    if not rotating:
        return Signers(current=Signer(CURRENT, current))
    try:
        upcoming = load_credentials(
            certificate=config.next_certificate,
            private_key=config.next_private_key,
            passphrase=config.next_private_key_passphrase,
            certificate_path=config.next_certificate_path,
            now=now,
            field_names=NEXT_FIELDS,
            check_dates=False,
        )
    except CertificateError as exc:
        return Signers(current=Signer(CURRENT, current), next_error=exc)
    if now > upcoming.certificate.not_valid_after_utc:
        field = "next_certificate_path" if config.next_certificate_path else "next_certificate"
        error = CertificateError(
            f"The next certificate (subject {upcoming.subject}, {describe(field)}) expired on "
            f"{upcoming.certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC: it can never be "
            "accepted. Make a new one with rh-register rotate and put it there, or clear the "
            "next-certificate fields (docs/rotation.md).",
            field=field,
        )
        return Signers(current=Signer(CURRENT, current), next_error=error)
    if upcoming.x5t_s256 == current.x5t_s256:
        error = CertificateError(
            f"The next certificate ({describe('next_certificate')} / {describe('next_certificate_path')}) "
            "is the current certificate itself: put the new certificate from rh-register rotate there, "
            "or clear the next-certificate fields.",
            field="next_certificate",
        )
        return Signers(current=Signer(CURRENT, current), next_error=error)
    return Signers(current=Signer(CURRENT, current), next=Signer(NEXT, upcoming))


class RotationMemory:
    """What this process learned about next certificates: when one was refused, whether accepted.

    Keyed per client id and certificate, shared by every hook in the process (like the token
    cache), so a refusal is logged once and the next certificate is retried after ``retry_after``
    seconds of ``clock``, not on every token request.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, retry_after: float = NEXT_RETRY_SECONDS
    ) -> None:
        self._clock = clock
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._refused_until: dict[Hashable, float] = {}
        self._accepted: set[Hashable] = set()
        self._logged_refusal: set[Hashable] = set()

    def should_try(self, key: Hashable) -> bool:
        with self._lock:
            until = self._refused_until.get(key)
            return until is None or self._clock() >= until

    def refused(self, key: Hashable) -> bool:
        """Note a refusal; True the first time this process sees one for ``key`` (log it then)."""
        with self._lock:
            self._refused_until[key] = self._clock() + self.retry_after
            self._accepted.discard(key)
            first = key not in self._logged_refusal
            self._logged_refusal.add(key)
            return first

    def accepted(self, key: Hashable) -> bool:
        """Note an acceptance; True the first time (log it then)."""
        with self._lock:
            self._refused_until.pop(key, None)
            first = key not in self._accepted
            self._accepted.add(key)
            return first

    def is_accepted(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._accepted

    def clear(self) -> None:
        with self._lock:
            self._refused_until.clear()
            self._accepted.clear()
            self._logged_refusal.clear()


#: Shared by every token provider in this process.
SHARED_ROTATION_MEMORY = RotationMemory()


class Rotation:
    """Chooses the certificate each token request signs with, and falls back when AD FS refuses.

    ``attempt`` callables get the :class:`Signer` to sign with; the token cache key they build
    from it carries that certificate's thumbprint, so cached tokens stay per certificate used.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        credentials: SigningCredentials | None = None,
        memory: RotationMemory | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.memory = memory if memory is not None else SHARED_ROTATION_MEMORY
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._signers = Signers(current=Signer(CURRENT, credentials)) if credentials is not None else None

    def now(self) -> dt.datetime:
        return utc_from_timestamp(self._wall_clock())

    @property
    def signers(self) -> Signers:
        """Loaded once, with the expiry report logged then (at the top of a task's log)."""
        if self._signers is None:
            with self._lock:
                if self._signers is None:
                    now = self.now()
                    signers = load_signers(self.config, now=now)
                    for line in expiry_warnings(signers, now=now, days=self.config.expiry_warning_days):
                        log.warning("%s", line)
                    self._signers = signers
        return self._signers

    def loaded(self) -> list[Signer]:
        """The certificates loaded so far (none before the first token request)."""
        return self._signers.all if self._signers is not None else []

    def memory_key(self, signer: Signer) -> tuple[str, str]:
        return (self.config.client_id, signer.credentials.x5t_s256)

    def plan(self) -> list[Signer]:
        """The certificates to try, in order; raises when none can sign."""
        signers = self.signers
        current, upcoming = signers.current, signers.next
        if upcoming is None:
            if signers.next_error is not None and not current.usable(self.now()):
                raise self._nothing_usable(signers)
            return [current]
        now = self.now()
        if not upcoming.usable(now):
            if current.usable(now):
                return [current]
            raise self._nothing_usable(signers)
        if not current.usable(now):
            return [upcoming]
        if self.memory.should_try(self.memory_key(upcoming)):
            return [upcoming, current]
        return [current]

    def _nothing_usable(self, signers: Signers) -> CertificateError:
        now = self.now()
        try:
            check_validity(signers.current.credentials, now=now, warn_within_days=None)
        except CertificateError as exc:
            reason = str(exc)
        else:  # pragma: no cover - only called when the current certificate is unusable
            reason = "The current certificate cannot be used."
        if signers.next_error is not None:
            about_next = f"The next certificate cannot be used either: {signers.next_error}"
        elif signers.next is not None:
            about_next = (
                f"The {signers.next.describe()} is not valid at this time either; check this host's clock."
            )
        else:  # pragma: no cover
            about_next = ""
        return CertificateError(f"{reason} {about_next}".strip(), field="next_certificate")

    def run(self, attempt: Callable[[Signer], T]) -> T:
        """``attempt(signer)`` with the next certificate, falling back to the current one."""
        plan = self.plan()
        for index, signer in enumerate(plan):
            try:
                result = attempt(signer)
            except TokenError as exc:
                self._refused(signer, exc, fallback=index + 1 < len(plan))
                continue
            self._accepted(signer)
            return result
        raise AssertionError("unreachable")  # pragma: no cover - _refused raises for the last one

    async def arun(self, attempt: Callable[[Signer], Awaitable[T]]) -> T:
        """Async twin of :meth:`run`."""
        plan = self.plan()
        for index, signer in enumerate(plan):
            try:
                result = await attempt(signer)
            except TokenError as exc:
                self._refused(signer, exc, fallback=index + 1 < len(plan))
                continue
            self._accepted(signer)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _accepted(self, signer: Signer) -> None:
        if signer.role != NEXT:
            return
        if self.memory.accepted(self.memory_key(signer)):
            log.info(
                "AD FS accepts the %s: token requests sign with it from now on. Make it the current "
                "certificate at a convenient time (docs/rotation.md).",
                signer.describe(),
            )

    def _refused(self, signer: Signer, error: TokenError, *, fallback: bool) -> None:
        """Raise unless this is the next certificate refused as unknown and the current one can sign."""
        if signer.role != NEXT or not means_not_registered(error):
            raise error
        first = self.memory.refused(self.memory_key(signer))
        if fallback:
            minutes = self.memory.retry_after / 60
            (log.warning if first else log.debug)(
                "AD FS does not accept the %s yet (%s); this request and the next %.0f minutes sign "
                "with the current certificate. Expected until the region has registered the next "
                "certificate for client id %s.",
                signer.describe(),
                error.error_description or error.error,
                minutes,
                self.config.client_id,
            )
            return
        current = self.signers.current
        raise TokenError(
            f"The {current.describe()} has expired or cannot be used, and AD FS does not accept the "
            f"{signer.describe()}: {error}. Ask the region to register the next certificate for "
            f"client id {self.config.client_id} (send the .crt.pem rh-register rotate wrote), "
            "see docs/rotation.md.",
            status_code=error.status_code,
            error=error.error,
            error_description=error.error_description,
            hint=error.hint,
            token_url=error.token_url,
            resource=error.resource,
        ) from error


def acceptance(signers: Signers, ask: Callable[[Signer], object], *, now: dt.datetime) -> dict[str, str]:
    """Which certificates AD FS accepts: ``ask(signer)`` makes one token request signed by it.

    Returns a short verdict per role; a refusal other than an unknown credential is re-raised,
    since it says nothing about the certificate.
    """
    verdicts: dict[str, str] = {}
    for signer in signers.all:
        if not signer.usable(now):
            verdicts[signer.role] = "not tried (outside its validity)"
            continue
        try:
            ask(signer)
        except TokenError as exc:
            if not means_not_registered(exc):
                raise
            verdicts[signer.role] = f"NOT accepted ({exc.error_description or exc.error})"
        else:
            verdicts[signer.role] = "accepted"
    return verdicts


# -- expiry that reaches people ---------------------------------------------------------------
def days_phrase(days: int) -> str:
    if days < 0:
        return f"expired {-days} day{'s' if days != -1 else ''} ago"
    return f"{days} day{'s' if days != 1 else ''} left"


def certificate_lines(signers: Signers, *, now: dt.datetime) -> list[str]:
    """One line per certificate with the days left (for Test, logs and rh-register status)."""
    lines = [f"{signer.describe()}: {days_phrase(signer.days_left(now))}" for signer in signers.all]
    if signers.next_error is not None:
        lines.append(f"next certificate cannot be used: {signers.next_error}")
    return lines


def expiry_warnings(signers: Signers, *, now: dt.datetime, days: int) -> list[str]:
    """What a task logs at its start when a certificate is inside the warning period."""
    threshold = describe("expiry_warning_days")
    lines: list[str] = []
    current = signers.current
    left = current.days_left(now)
    if left < days:
        if signers.next is not None:
            advice = (
                "A next certificate is set; runs switch to it as soon as AD FS accepts it. If the "
                "region has not registered it yet, ask them now (docs/rotation.md)."
            )
        else:
            advice = (
                "Start a rotation now: rh-register rotate makes the next key and certificate; send the "
                "certificate to the region and set it as the connection's next certificate "
                "(docs/rotation.md)."
            )
        lines.append(
            f"The {current.describe()} {'has expired' if left < 0 else 'expires soon'} "
            f"({days_phrase(left)}; warning from {days} days, {threshold}). {advice}"
        )
    if signers.next is not None and 0 <= signers.next.days_left(now) < days:
        lines.append(
            f"The {signers.next.describe()} itself expires within {days} days: make a newer one "
            "(rh-register rotate)."
        )
    if signers.next_error is not None:
        lines.append(
            f"The next certificate cannot be used, runs sign with the current one: {signers.next_error}"
        )
    return lines


@dataclass(frozen=True)
class CheckResult:
    """A connection's certificates judged against the warning period; ``ok`` False fails the check."""

    conn_id: str
    ok: bool
    lines: tuple[str, ...]

    def __str__(self) -> str:
        state = "OK" if self.ok else "ACTION NEEDED"
        return f"{self.conn_id}: {state}: " + "; ".join(self.lines)


def check_connection(
    conn_id: str,
    signers: Signers,
    *,
    now: dt.datetime,
    days: int,
    next_accepted: Callable[[], bool | None] | None = None,
) -> CheckResult:
    """Pass while the current certificate has ``days`` or more left, or an accepted next one does.

    ``next_accepted`` asks AD FS (a token request signed with the next certificate); it is only
    called when the answer matters. ``None`` from it means "could not tell", which fails.
    """
    lines = certificate_lines(signers, now=now)
    if signers.current.days_left(now) >= days:
        return CheckResult(conn_id, True, tuple(lines))
    upcoming = signers.next
    if upcoming is None:
        lines.append(f"inside the {days}-day warning period and no next certificate is set: start a rotation")
        return CheckResult(conn_id, False, tuple(lines))
    if upcoming.days_left(now) < days:
        lines.append(f"the next certificate too has fewer than {days} days left")
        return CheckResult(conn_id, False, tuple(lines))
    accepted = next_accepted() if next_accepted is not None else None
    if accepted:
        lines.append("AD FS accepts the next certificate: runs go on after the current one expires")
        return CheckResult(conn_id, True, tuple(lines))
    if accepted is None:
        lines.append("could not ask AD FS whether it accepts the next certificate")
    else:
        lines.append("AD FS does not accept the next certificate yet: ask the region to register it")
    return CheckResult(conn_id, False, tuple(lines))
