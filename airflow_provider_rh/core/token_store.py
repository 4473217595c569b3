"""Access tokens shared by the task processes of one worker, encrypted on local disk (opt-in).

Every Airflow task runs in its own process, so the in-memory :class:`TokenCache` of one task is
empty for the next: a mapped pull of 500 tasks asked AD FS for 500 tokens. A :class:`TokenStore`
keeps each token in a file that the worker's other task processes read instead:

- **Encrypted at rest** with Fernet (Airflow's ``[core] fernet_key``); without a key nothing is
  stored. File names are an HMAC of the cache key under that key, so they say nothing either.
- **Keyed exactly like the in-memory cache** (:class:`TokenKey`: token endpoint, client id,
  certificate thumbprint, resource, scopes) **plus a digest of the key material and
  passphrase**, so a changed certificate, key or passphrase never gets another's token.
- **Owner-only**: the folder is ``0700``, each file ``0600``; a folder or file that is not the
  worker user's own, or is open to others, is not used.
- **Never outlives the token**: a stored token is used only while it is fresh (the same
  renewal margin as in memory, on the wall clock); an expired one is deleted when seen. A
  refused token (401) is dropped from the store as from memory.
- **Safe under concurrent processes**: ``fcntl.flock`` on a per-key lock file around
  read-check-fetch-write, so one process asks and the others wait and read its token; files
  are replaced by an atomic rename.
- **Fails open**: anything off (corrupt or foreign file, a wrong Fernet key, permissions,
  a clock that went backwards, a full disk) means a fresh token request, as without the store.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from airflow_provider_rh.core.tokens import AccessToken, TokenCache, TokenKey

log = logging.getLogger(__name__)

_FORMAT = 1


def default_directory() -> Path:
    """``airflow-provider-rh-tokens-<uid>`` in ``$XDG_RUNTIME_DIR`` (a per-user tmpfs), else the temp dir."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) if runtime else Path(tempfile.gettempdir())
    return base / f"airflow-provider-rh-tokens-{os.getuid()}"


def material_digest(*secrets: str | bytes | None) -> bytes:
    """A digest of the key material and passphrase (kept in memory, never written as it is)."""
    digest = hashlib.sha256(b"airflow-provider-rh token material\0")
    for item in secrets:
        data = b"\xff" if item is None else item.encode() if isinstance(item, str) else item
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.digest()


class TokenStore:
    """Tokens in ``directory``, one Fernet-encrypted file per cache key; see the module docs."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        fernet_keys: Sequence[str],
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        from cryptography.fernet import Fernet, MultiFernet

        keys = [key.strip() for key in fernet_keys if key and key.strip()]
        if not keys:
            raise ValueError("A shared token store needs a Fernet key.")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        self._name_key = hashlib.sha256(b"airflow-provider-rh token file names\0" + keys[0].encode()).digest()
        self.directory = Path(directory)
        self._wall_clock = wall_clock

    # -- the one entry point ---------------------------------------------------------------
    def get_or_fetch(
        self, key: TokenKey, material: bytes, fetch: Callable[[], AccessToken], now: Callable[[], float]
    ) -> AccessToken:
        """A fresh stored token for ``key``, else ``fetch()`` stored for the others.

        ``now`` is the caller's monotonic clock (tokens in memory count on it).
        """
        name = self._name(key, material)
        held = contextlib.ExitStack()
        try:
            held.enter_context(self._lock(name))
        except OSError as exc:
            log.info("Shared token cache not used (%s); asking for a token.", type(exc).__name__)
            return fetch()
        with held:
            token = self._read(name, key, now)
            if token is not None:
                log.info("Access token for resource %r taken from the shared token cache.", key.resource)
                return token
            token = fetch()
            self._write(name, key, token, now)
            return token

    def discard(self, key: TokenKey, material: bytes, token: AccessToken | None = None) -> None:
        """Forget the stored token (only if it is ``token``, when given): the server refused it."""
        name = self._name(key, material)
        with contextlib.suppress(OSError), self._lock(name):
            stored = self._read(name, key, time.monotonic, keep_expired=True)
            if stored is not None and (token is None or stored.value == token.value):
                (self.directory / f"{name}.token").unlink(missing_ok=True)

    # -- files ---------------------------------------------------------------------------
    def _name(self, key: TokenKey, material: bytes) -> str:
        identity = json.dumps([_FORMAT, *key], separators=(",", ":")).encode() + b"\0" + material
        return hmac.new(self._name_key, identity, hashlib.sha256).hexdigest()[:40]

    @contextlib.contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        import fcntl

        self._ensure_directory()
        path = self.directory / f"{name}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            _check_owned(os.fstat(fd))
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _ensure_directory(self) -> None:
        self.directory.mkdir(mode=0o700, exist_ok=True)
        _check_owned(os.lstat(self.directory), folder=True)

    def _read(
        self, name: str, key: TokenKey, now: Callable[[], float], *, keep_expired: bool = False
    ) -> AccessToken | None:
        path = self.directory / f"{name}.token"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError:
            return None
        try:
            with os.fdopen(fd, "rb") as handle:
                _check_owned(os.fstat(handle.fileno()))
                sealed = handle.read(64 * 1024)
            entry = json.loads(self._fernet.decrypt(sealed))
            if entry.get("v") != _FORMAT or entry.get("key") != list(key):
                raise ValueError("the file holds another key's token")
            value, scope = entry["token"], entry.get("scope")
            expires_in, obtained = float(entry["expires_in"]), float(entry["obtained"])
            if not isinstance(value, str) or not (isinstance(scope, str) or scope is None):
                raise ValueError("malformed entry")
            age = self._wall_clock() - obtained
            if not 0 <= age <= expires_in and not keep_expired:
                # Expired, or a clock that went backwards: this token is not to be trusted.
                path.unlink(missing_ok=True)
                return None
            token = AccessToken(value=value, expires_in=expires_in, obtained_at=now() - age, scope=scope)
        except Exception as exc:  # fail open: whatever is wrong, ask for a fresh token
            log.info("Shared token cache entry ignored (%s); asking for a fresh token.", type(exc).__name__)
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            return None
        if not keep_expired and not token.is_fresh(now()):
            return None
        return token

    def _write(self, name: str, key: TokenKey, token: AccessToken, now: Callable[[], float]) -> None:
        age = max(0.0, now() - token.obtained_at)
        entry = {
            "v": _FORMAT,
            "key": list(key),
            "token": token.value,
            "scope": token.scope,
            "expires_in": token.expires_in,
            "obtained": self._wall_clock() - age,
        }
        sealed = self._fernet.encrypt(json.dumps(entry).encode())
        final = self.directory / f"{name}.token"
        temp = self.directory / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(sealed)
            os.replace(temp, final)
        except OSError as exc:
            log.info("Shared token cache not written (%s); the token is used anyway.", type(exc).__name__)
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)


def _check_owned(info: os.stat_result, *, folder: bool = False) -> None:
    """Refuse (OSError) what is not ours, not the right kind, or open to group or others."""
    kind_ok = stat.S_ISDIR(info.st_mode) if folder else stat.S_ISREG(info.st_mode)
    if not kind_ok or info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise PermissionError(f"not owner-only ({oct(stat.S_IMODE(info.st_mode))})")


class SharedTokenCache(TokenCache):
    """The in-memory cache, backed by a :class:`TokenStore` the worker's task processes share.

    A drop-in for :class:`TokenCache`: memory first, then the store under its file lock, then
    one token request, whose token both keep.
    """

    def __init__(
        self, store: TokenStore, material: bytes, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(clock=clock)
        self.store = store
        self.material = material

    def get_or_fetch(self, key: TokenKey, fetch: Callable[[], AccessToken]) -> AccessToken:
        return super().get_or_fetch(key, lambda: self.store.get_or_fetch(key, self.material, fetch, self.now))

    def invalidate(self, key: TokenKey, token: AccessToken | None = None) -> None:
        super().invalidate(key, token)
        try:
            self.store.discard(key, self.material, token)
        except Exception as exc:  # fail open: a refused token is asked for again anyway
            log.info("Shared token cache entry not discarded (%s).", type(exc).__name__)


_CACHES: dict[tuple[str, bytes], SharedTokenCache] = {}
_CACHES_GUARD = threading.Lock()


def shared_cache(
    directory: str | os.PathLike[str], fernet_keys: Sequence[str], material: bytes
) -> SharedTokenCache:
    """One :class:`SharedTokenCache` per folder and key material in this process."""
    ident = (str(directory), hashlib.sha256(material + "\0".join(fernet_keys).encode()).digest())
    with _CACHES_GUARD:
        cache = _CACHES.get(ident)
        if cache is None:
            cache = _CACHES[ident] = SharedTokenCache(TokenStore(directory, fernet_keys), material)
        return cache
