"""Airflow imports that moved between 3.0 and 3.3, in one place."""

from __future__ import annotations

from typing import Any

try:
    from airflow.sdk import BaseHook
except ImportError:  # pragma: no cover - Airflow 3.0 before the SDK re-export
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined,unused-ignore]

try:
    from airflow.sdk.log import mask_secret as _mask_secret
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.sdk.execution_time.secrets_masker import (  # type: ignore[no-redef]
        mask_secret as _mask_secret,
    )


def mask_secret(value: Any) -> None:
    """Register ``value`` with Airflow's secrets masker."""
    _mask_secret(value)


__all__ = ["BaseHook", "mask_secret"]
