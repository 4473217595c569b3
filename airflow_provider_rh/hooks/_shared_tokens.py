"""The worker-wide token cache switch: ``[regionhalland] shared_token_cache`` (off by default).

When on, every task process of a worker shares its tokens through an encrypted folder
(:mod:`airflow_provider_rh.core.token_store`), so a mapped pull asks AD FS once per resource
per token lifetime instead of once per task. It needs Airflow's ``[core] fernet_key``; without
one, or if the store cannot be set up, each process keeps its own tokens as before.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.tokens import TokenCache

log = logging.getLogger(__name__)

SECTION = "regionhalland"


def _conf() -> Any:
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # pragma: no cover - older layouts
        from airflow.configuration import conf
    return conf


def shared_token_cache(config: ClientConfig) -> TokenCache | None:
    """The shared cache for ``config``'s credentials, or None (each process its own tokens)."""
    conf = _conf()
    try:
        if not conf.getboolean(SECTION, "shared_token_cache", fallback=False):
            return None
    except ValueError:
        log.warning("[%s] shared_token_cache is not a boolean; tokens are not shared.", SECTION)
        return None
    from airflow_provider_rh.core.token_store import default_directory, material_digest, shared_cache

    keys = [key for key in str(conf.get("core", "fernet_key", fallback="") or "").split(",") if key.strip()]
    if not keys:
        log.warning("[%s] shared_token_cache needs [core] fernet_key to encrypt tokens; not shared.", SECTION)
        return None
    directory = conf.get(SECTION, "shared_token_cache_dir", fallback="") or default_directory()
    material = material_digest(
        config.certificate, config.private_key, config.private_key_passphrase, config.certificate_path
    )
    try:
        return shared_cache(directory, keys, material)
    except Exception as exc:  # a bad Fernet key: fail open, as the store does
        log.warning(
            "[%s] shared token cache unusable (%s); tokens are not shared.", SECTION, type(exc).__name__
        )
        return None
