"""Connections as secrets backends and the metadata database hand them over: encrypted at rest."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet

from airflow_provider_rh.hooks.regionhalland import raw_extra

EXTRA = {"auth_url": "https://adfs.example.se/adfs/oauth2/token/", "resource": "hsainfoapi.regionhalland.se"}


@pytest.fixture
def fernet_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A Fernet key set as a deployment sets it; Airflow's cached Fernet is rebuilt around the test."""
    from airflow.models import crypto

    def forget() -> None:
        clear = getattr(crypto.get_fernet, "cache_clear", None)
        if clear is not None:
            clear()
        else:  # Airflow 3.1 keeps it in a module global
            crypto._fernet = None  # type: ignore[attr-defined]

    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", Fernet.generate_key().decode())
    forget()
    yield
    monkeypatch.delenv("AIRFLOW__CORE__FERNET_KEY")
    forget()


def test_an_encrypted_extra_is_read_as_its_json(fernet_key: None) -> None:
    from airflow.models.connection import Connection

    conn = Connection(conn_id="rh", conn_type="regionhalland", extra=json.dumps(EXTRA))
    assert conn.is_extra_encrypted
    assert json.loads(raw_extra(conn)) == EXTRA


def test_a_plain_extra_is_read_as_its_json() -> None:
    from airflow.models.connection import Connection

    conn = Connection(conn_id="rh", conn_type="regionhalland", extra=json.dumps(EXTRA))
    assert json.loads(raw_extra(conn)) == EXTRA
