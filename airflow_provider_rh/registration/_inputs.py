"""What ``rh-register`` accepts from its command line and how it writes files, checked in one place.

Every input gets a clear refusal before anything is made: a name that would leave the output
folder or that X.509 cannot hold, a validity that is not a whole positive number of days, a
passphrase shorter than the prompt allows. Files are written without following symbolic links:
a link planted in the output folder cannot redirect a private key, and ``--force`` replaces the
file itself (a new inode moved into place), never the target of a link.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

#: X.509's upper bound for a common name and an organisation name (RFC 5280, ub-common-name).
MAX_NAME = 64
#: Ten years: longer than any registration keeps a key, far below the year-9999 limit of X.509.
MAX_DAYS = 3650
#: The prompt's rule, applied to a passphrase from the environment too.
MIN_PASSPHRASE = 12
#: A certificate file is a few kilobytes; more is the wrong file.
MAX_CERTIFICATE_BYTES = 1_000_000
#: What Airflow accepts as a connection id (airflow.utils.helpers.validate_key).
_CONN_ID = re.compile(r"[A-Za-z0-9_.-]{1,200}")
_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class UsageError(Exception):
    """A mistake on the command line or in the files named; the message says what to do."""


def shown(value: str, limit: int = 40) -> str:
    """``value`` as typed, quoted, cut to ``limit`` characters, control characters escaped."""
    cut = value if len(value) <= limit else value[:limit] + "..."
    return repr(cut)


def check_name(name: str, *, what: str = "--name") -> str:
    """A common name that is also a safe file name inside the output folder."""
    if not name or not name.strip():
        raise UsageError(f"{what} is empty: give the application's name, e.g. minklient.mindoman.se.")
    if len(name) > MAX_NAME:
        raise UsageError(
            f"{what} has {len(name)} characters; a certificate's name holds at most {MAX_NAME} "
            f"(got {shown(name)})."
        )
    if name != name.strip() or not name.isprintable():
        raise UsageError(f"{what} has leading or trailing spaces or control characters (got {shown(name)}).")
    if "/" in name or "\\" in name or name.startswith(".") or os.path.isabs(name):
        raise UsageError(
            f"{what} must be a plain name, not a path: the files are written into the output folder "
            f"(--out). Got {shown(name)}."
        )
    return name


def check_organization(organization: str | None) -> str | None:
    if organization is None:
        return None
    if not organization.strip() or len(organization) > MAX_NAME or not organization.isprintable():
        raise UsageError(
            f"--organization must be 1 to {MAX_NAME} printable characters (got {shown(organization)})."
        )
    return organization


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(
            f"--days must be between 1 and {MAX_DAYS} (got {days}): a certificate valid for {days} "
            "days would be expired from the start or outlive any registration."
        )
    return days


def check_passphrase(passphrase: str, *, source: str) -> str:
    if len(passphrase) < MIN_PASSPHRASE:
        raise UsageError(f"Use a passphrase of at least {MIN_PASSPHRASE} characters ({source}).")
    return passphrase


def check_conn_id(conn_id: str) -> str:
    if not _CONN_ID.fullmatch(conn_id):
        raise UsageError(
            "--conn-id may hold letters, digits, '_', '.' and '-' (1 to 200), as Airflow requires "
            f"(got {shown(conn_id)})."
        )
    return conn_id


def env_name(conn_id: str) -> str:
    """The variable Airflow reads for ``conn_id``: ``AIRFLOW_CONN_`` + the id upper-cased."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def is_shell_name(name: str) -> bool:
    """Whether ``export NAME=...`` works: ``-`` and ``.`` are not allowed in a shell variable."""
    return _SHELL_NAME.fullmatch(name) is not None


def check_folder(folder: Path) -> None:
    """Refuse an output folder that is a symbolic link (it could lead anywhere)."""
    if folder.is_symlink():
        raise UsageError(
            f"{folder} is a symbolic link; nothing was written. Give the folder's real path with --out."
        )


def check_target(path: Path, *, force: bool) -> None:
    """Refuse a symbolic link always, an existing file unless ``force``."""
    if path.is_symlink():
        raise UsageError(f"{path} is a symbolic link; nothing was written. Remove it first.")
    if path.exists() and not force:
        raise UsageError(f"{path} exists; nothing was written (use --force to replace it).")
    if path.exists() and not path.is_file():
        raise UsageError(f"{path} exists and is not a file; nothing was written.")


def write_file(path: Path, text: str, *, private: bool, force: bool) -> None:
    """Write ``text`` to ``path`` without following links; mode 600 when ``private``.

    A new file is created with ``O_EXCL | O_NOFOLLOW``; a replaced one (``force``) is written to
    a fresh temporary beside it and renamed over it, which replaces a link rather than its target.
    """
    check_target(path, force=force)
    mode = 0o600 if private else 0o644
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | nofollow, mode)
        os.fchmod(fd, mode)  # whatever the umask
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        return
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
