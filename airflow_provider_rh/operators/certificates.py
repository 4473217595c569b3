"""A scheduled check that fails weeks before a client certificate expires, so people hear of it.

Schedule it daily (``dags_examples/regionhalland_certificate_check.py``): the task fails while
any connection of type ``regionhalland`` (or each one named) is inside its warning period
(``extra.expiry_warning_days``, default 30) without a next certificate that AD FS accepts, and
Airflow's usual failure alerts (email, Slack and other notifiers) tell someone in time.

Without ``conn_ids`` it checks every connection it can list (:func:`find_connections`), and fails
when a source could not be listed (Airflow 3 tasks run by a scheduler cannot read Airflow's
database; no secrets backend can be listed): name the connections in ``conn_ids`` then.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_rh.core.rotation import (
    CheckResult,
    check_connection,
    load_signers,
    means_not_registered,
)
from airflow_provider_rh.exceptions import (
    CertificateError,
    ConfigurationError,
    RegionHallandError,
    TokenError,
)
from airflow_provider_rh.get_provider_info import CONN_TYPE
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook

if TYPE_CHECKING:
    from airflow.sdk import Context

_ENV_PREFIX = "AIRFLOW_CONN_"


def _env_conn_type(value: str) -> str | None:
    text = value.strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text[: 4 * 1024 * 1024])
        except (ValueError, RecursionError):
            return None
        conn_type = parsed.get("conn_type") if isinstance(parsed, dict) else None
        return conn_type if isinstance(conn_type, str) else None
    scheme, sep, _ = text.partition("://")
    return scheme if sep else None


@dataclass(frozen=True)
class FoundConnections:
    """The ``regionhalland`` connections a task could list, and what it could not look into."""

    conn_ids: list[str]
    unlisted: list[str] = field(default_factory=list)
    """Why some connections may be missing: one sentence per source that cannot be listed."""


def _database_connection_ids() -> list[str]:
    from airflow.models import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(Connection.conn_id).filter(Connection.conn_type == CONN_TYPE).all()
    return [str(row[0]) for row in rows]


def _secrets_backends() -> list[str]:
    """Class names of the secrets backends configured for tasks (none by default)."""
    try:
        from airflow.configuration import conf
    except ImportError:  # pragma: no cover - a task SDK without Airflow core
        return []
    names = [
        conf.get("secrets", "backend", fallback="") or "",
        conf.get("workers", "secrets_backend", fallback="") or "",
    ]
    return sorted({name.strip() for name in names if name and name.strip()})


def find_connections(environ: dict[str, str] | None = None) -> FoundConnections:
    """Every ``regionhalland`` connection this task can list, and the sources it cannot list.

    Environment variables (``AIRFLOW_CONN_*``) are always read. Airflow's database is read where
    the task may (``dag.test()``, ``airflow tasks test``); a task run by a scheduler under Airflow 3
    has no database access, so connections made in the UI or with ``airflow connections add`` are
    not found there. A secrets backend has no way to list its connections at all. Either source
    that cannot be listed is named in ``unlisted``: name its connections in ``conn_ids``.
    """
    environ = dict(os.environ) if environ is None else environ
    found = {
        name[len(_ENV_PREFIX) :].lower()
        for name, value in environ.items()
        if name.startswith(_ENV_PREFIX) and _env_conn_type(value) == CONN_TYPE
    }
    unlisted: list[str] = []
    try:
        found.update(_database_connection_ids())
    except Exception as exc:  # Airflow 3 blocks a task's ORM access; or no database at all
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        unlisted.append(
            f"Airflow's database cannot be listed from this task ({reason}): under Airflow 3 a task "
            "run by the scheduler has no database access, so connections made in the UI or with "
            "'airflow connections add' are not found"
        )
    for backend in _secrets_backends():
        unlisted.append(f"the secrets backend {backend} cannot be listed")
    return FoundConnections(sorted(found), unlisted)


def connection_ids_of_our_type(environ: dict[str, str] | None = None) -> list[str]:
    """Ids of every ``regionhalland`` connection this task can list (see :func:`find_connections`)."""
    return find_connections(environ).conn_ids


class RegionHallandCertificateCheckOperator(BaseOperator):
    """Fail while a connection's certificate is inside its warning period without an accepted next one.

    Each connection passes while its current certificate has at least ``warning_days`` days
    left (default: the connection's ``extra.expiry_warning_days``, else 30), or while a next
    certificate with that much time left is set and AD FS accepts it (one token request signed
    by it). The task's log has one line per connection with the days left per certificate; the
    result (XCom) lists the same, without any secret.

    .. code-block:: python

        RegionHallandCertificateCheckOperator(task_id="certificates", conn_ids=["hsainfo_prod"])
        RegionHallandCertificateCheckOperator(task_id="certificates")  # every one it can list

    Without ``conn_ids`` the task also fails when it could not list every source of connections:
    under a scheduler, Airflow 3 gives tasks no database access (connections made in the UI are
    not found), and a configured secrets backend cannot be listed. Naming the connections in
    ``conn_ids`` reads each one from wherever it is defined.
    """

    template_fields = ("conn_ids",)
    ui_color = "#f9e79f"

    def __init__(
        self,
        *,
        conn_ids: Sequence[str] | None = None,
        warning_days: int | None = None,
        ask_adfs: bool = True,
        now: Callable[[], dt.datetime] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if warning_days is not None and warning_days < 0:
            raise ConfigurationError(
                f"warning_days must be 0 or more, got {warning_days}.", field="warning_days"
            )
        self.conn_ids = list(conn_ids) if conn_ids is not None else None
        self.warning_days = warning_days
        self.ask_adfs = ask_adfs
        self._now = now or (lambda: dt.datetime.now(dt.timezone.utc))

    def execute(self, context: Context) -> list[dict[str, Any]]:
        unlisted: list[str] = []
        if self.conn_ids:
            conn_ids = self.conn_ids
        else:
            found = find_connections()
            conn_ids, unlisted = found.conn_ids, found.unlisted
        if not conn_ids and not unlisted:
            raise ConfigurationError(
                f"No connection of type {CONN_TYPE!r} found to check: name them in conn_ids=[...].",
                field="conn_ids",
            )
        results = [self.check(conn_id) for conn_id in conn_ids]
        for result in results:
            (self.log.info if result.ok else self.log.error)("%s", result)
        failed = [result for result in results if not result.ok]
        problems: list[str] = []
        if failed:
            problems.append(
                f"{len(failed)} of {len(results)} connection(s) need a certificate rotation now "
                "(docs/rotation.md): " + " | ".join(str(result) for result in failed)
            )
        if unlisted:
            # A check that passes while it missed connections is worse than one that fails.
            checked = ", ".join(conn_ids) if conn_ids else "none"
            problems.append(
                f"Some {CONN_TYPE!r} connections may not have been checked: {'; '.join(unlisted)}. "
                f"Checked: {checked}. Name every connection to check in conn_ids=[...] "
                "(any source works then: environment, database, secrets backend)."
            )
            self.log.error("%s", problems[-1])
        if problems:
            raise CertificateError(" ".join(problems), field="conn_ids" if not failed else "next_certificate")
        return [{"conn_id": r.conn_id, "ok": r.ok, "lines": list(r.lines)} for r in results]

    def check(self, conn_id: str) -> CheckResult:
        """One connection's verdict; a connection that cannot be read fails with the reason."""
        hook = RegionHallandHook(conn_id)
        try:
            config = hook.config
            now = self._now()
            signers = load_signers(config, now=now)
            days = self.warning_days if self.warning_days is not None else config.expiry_warning_days

            def next_accepted() -> bool | None:
                if not self.ask_adfs or signers.next is None:
                    return None
                try:
                    hook.tokens.fetch_signed_by(signers.next.credentials)
                except RegionHallandError as exc:
                    if isinstance(exc, TokenError) and means_not_registered(exc):
                        return False
                    self.log.warning("%s: could not ask AD FS about the next certificate: %s", conn_id, exc)
                    return None
                return True

            return check_connection(conn_id, signers, now=now, days=days, next_accepted=next_accepted)
        except RegionHallandError as exc:
            return CheckResult(conn_id, False, (f"cannot be checked: {exc}",))
        except Exception as exc:  # a missing connection (AirflowNotFoundException) fails the check too
            return CheckResult(conn_id, False, (f"cannot be read: {type(exc).__name__}: {exc}",))
        finally:
            hook.close()
