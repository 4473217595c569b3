"""Shared by the operator, sensor and trigger tests: a sandbox behind the default connection,
and response checks importable by dotted path (as the triggerer needs them)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.sandbox import Sandbox, SandboxConfig

UNIT_COUNT = 50


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One fault-free sandbox per test module (50 units)."""
    with Sandbox(SandboxConfig(state_dir=tmp_path_factory.mktemp("sb"), port=0, unit_count=UNIT_COUNT)) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The sandbox as ``regionhalland_default``, with an empty token cache."""
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", sandbox.connection_uri_env())
    SHARED_TOKEN_CACHE.clear()
    CALLS.clear()
    yield sandbox
    SHARED_TOKEN_CACHE.clear()


#: How often each check below has been called in this test.
CALLS: dict[str, int] = {}


def ready_on_second_call(response: httpx.Response) -> bool:
    """Says "not yet" once, then looks at the body: a stand-in for a job that finishes."""
    CALLS["second"] = CALLS.get("second", 0) + 1
    return CALLS["second"] >= 2 and response.json()["status"] == "ok"


def never_ready(response: httpx.Response) -> bool:
    return False


def broken_check(response: httpx.Response) -> bool:
    raise KeyError("status")


class Checks:
    """Checks reached through a class, as ``module.Class.method``."""

    @staticmethod
    def is_active(response: httpx.Response) -> bool:
        return bool(response.json()["id"] > 0)
