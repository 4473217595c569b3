"""Fixtures: one shared fault-free sandbox per module, an httpx client and a :class:`Caller`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_rh.sandbox import Sandbox

from .helpers import Caller, start_sandbox


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One fault-free sandbox shared by a module's tests."""
    sandbox = start_sandbox(tmp_path_factory.mktemp("state"))
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def caller(sb: Sandbox, http: httpx.Client) -> Caller:
    return Caller(sb, http)
