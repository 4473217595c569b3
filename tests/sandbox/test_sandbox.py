"""The Python API other tests build on: identity kept in the state folder, connection, isolation."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import httpx
import pytest

import airflow_provider_rh.sandbox as sandbox_package
from airflow_provider_rh.sandbox import Sandbox, SandboxConfig

from .helpers import Caller, start_sandbox

SANDBOX_DIR = Path(sandbox_package.__file__).parent


def test_public_names() -> None:
    assert sandbox_package.__all__ == ["Faults", "Sandbox", "SandboxConfig", "Stats"]


def test_the_sandbox_imports_nothing_from_the_provider_or_airflow() -> None:
    for source in SANDBOX_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert not name.startswith("airflow") or name.startswith("airflow_provider_rh.sandbox"), (
                    f"{source.name} imports {name}"
                )


@pytest.mark.integration
def test_connection_has_the_documented_shape(tmp_path: Path) -> None:
    with start_sandbox(tmp_path) as sb:
        conn = sb.connection

    assert conn == {
        "conn_type": "regionhalland",
        "host": f"http://127.0.0.1:{sb.port}/hsainfo/v1",
        "port": sb.port,
        "login": sb.client_id,
        "password": sb.subscription_key,
        "extra": {
            "auth_url": f"http://127.0.0.1:{sb.port}/adfs/oauth2/token/",
            "certificate": sb.certificate_pem,
            "private_key": sb.private_key_pem,
            "resource": "hsainfoapi.regionhalland.se",
            "scopes": "hsainfoapi.read",
            "test_path": "/health",
        },
    }
    assert sb.base_url == conn["host"]
    assert json.loads(sb.connection_uri_env()) == conn
    assert sb.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert json.loads((tmp_path / "connection.json").read_text()) == conn


@pytest.mark.integration
def test_a_second_start_reuses_the_identity(tmp_path: Path, http: httpx.Client) -> None:
    with start_sandbox(tmp_path) as first:
        identity = (first.client_id, first.subscription_key, first.certificate_pem, first.private_key_pem)
        kid = first.ctx.kid
        assert Caller(first, http).api("/health").status_code == 200

    with start_sandbox(tmp_path) as second:
        assert (
            second.client_id,
            second.subscription_key,
            second.certificate_pem,
            second.private_key_pem,
        ) == (identity)
        assert not second.identity.created
        assert second.ctx.kid == kid  # the same token-signing key


def test_secrets_stay_out_of_reprs(tmp_path: Path) -> None:
    sb = Sandbox(SandboxConfig(state_dir=tmp_path, port=0))
    try:
        for text in (repr(sb), repr(sb.identity)):
            assert sb.subscription_key not in text
            assert "PRIVATE KEY" not in text
    finally:
        sb.stop()


def test_files_holding_secrets_are_private(tmp_path: Path) -> None:
    Sandbox(SandboxConfig(state_dir=tmp_path / "state", port=0)).stop()

    for name in ("client.json", "client-key.pem", "signing-key.pem", "connection.json"):
        assert (tmp_path / "state" / name).stat().st_mode & 0o777 == 0o600, name
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700
