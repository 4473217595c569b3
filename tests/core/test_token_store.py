"""The worker-wide token cache: one token request per resource however many task processes ask.

Real processes (``spawn``: each its own interpreter and empty memory, as Airflow's task
processes) ask the sandbox's AD FS through the real hook; the sandbox counts the requests.
The rest checks the store's promises one by one: encrypted, owner-only, keyed by the key
material, never past the token's life, failing open to a fresh request.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from airflow_provider_rh.core.token_store import SharedTokenCache, TokenStore, material_digest
from airflow_provider_rh.core.tokens import AccessToken, TokenKey
from airflow_provider_rh.sandbox import Sandbox
from tests.sandbox.helpers import FakeClock
from tests.transfers.support import start_sandbox

KEY = TokenKey("https://adfs.example.se/adfs/oauth2/token", "client", "thumb", "resource", None)
FERNET = Fernet.generate_key().decode()
PROCESSES = 3


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = start_sandbox(tmp_path_factory.mktemp("sandbox-state"))
    yield sb
    sb.stop()


def ask_for_a_token(connection: str, env: dict[str, str], barrier: Any, results: Any) -> None:
    """One task process: the hook as a task would use it, all processes asking at once."""
    os.environ.update(env)
    os.environ["AIRFLOW_CONN_REGIONHALLAND_DEFAULT"] = connection
    from airflow_provider_rh.hooks.regionhalland import RegionHallandHook

    hook = RegionHallandHook()
    hook.config  # noqa: B018 (load the connection before the race)
    barrier.wait(timeout=120)
    results.put(hook.get_token())


def run_processes(sb: Sandbox, env: dict[str, str]) -> tuple[int, set[str]]:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    before = sb.stats.token_requests
    workers = [
        context.Process(target=ask_for_a_token, args=(sb.connection_uri_env(), env, barrier, results))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    tokens = {results.get(timeout=300) for _ in workers}
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return sb.stats.token_requests - before, tokens


@pytest.mark.parametrize("shared", [True, False])
def test_task_processes_of_a_worker_share_one_token(sandbox: Sandbox, tmp_path: Path, shared: bool) -> None:
    env = {
        "AIRFLOW__REGIONHALLAND__SHARED_TOKEN_CACHE": str(shared),
        "AIRFLOW__REGIONHALLAND__SHARED_TOKEN_CACHE_DIR": str(tmp_path / "tokens"),
        "AIRFLOW__CORE__FERNET_KEY": FERNET,
    }
    requests, tokens = run_processes(sandbox, env)
    if shared:
        assert (requests, len(tokens)) == (1, 1)
        (token,) = tokens
        files = list((tmp_path / "tokens").glob("*.token"))
        assert len(files) == 1
        assert token.encode() not in files[0].read_bytes()  # encrypted at rest
        assert stat.S_IMODE((tmp_path / "tokens").stat().st_mode) == 0o700
        assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    else:
        assert (requests, len(tokens)) == (PROCESSES, PROCESSES)
        assert not (tmp_path / "tokens").exists()


class Fetcher:
    """A token endpoint stand-in that counts its calls (the sandbox test above is the real one)."""

    def __init__(self, clock: FakeClock) -> None:
        self.calls = 0
        self.clock = clock

    def __call__(self) -> AccessToken:
        self.calls += 1
        return AccessToken(value=f"token-{self.calls}", expires_in=600, obtained_at=self.clock())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(now=1_000_000.0)


def store(tmp_path: Path, clock: FakeClock, key: str = FERNET) -> TokenStore:
    return TokenStore(tmp_path / "tokens", [key], wall_clock=clock)


def get(tokens: TokenStore, fetch: Fetcher, *, material: bytes = b"m", key: TokenKey = KEY) -> str:
    return tokens.get_or_fetch(key, material, fetch, fetch.clock).value


def test_a_stored_token_is_reused_until_its_renewal_margin(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    fetch = Fetcher(clock)
    with caplog.at_level(logging.INFO, logger="airflow_provider_rh.core.token_store"):
        assert get(store(tmp_path, clock), fetch) == get(store(tmp_path, clock), fetch) == "token-1"
    # The line operators count cache hits by (the deployment test does, per mapped pull).
    hits = [r.getMessage() for r in caplog.records if "taken from the shared token cache" in r.getMessage()]
    assert hits == [f"Access token for resource {KEY.resource!r} taken from the shared token cache."]
    clock.advance(600 - 60)  # the in-memory cache's margin: 10 % of 600 s
    assert get(store(tmp_path, clock), fetch) == "token-2"


@pytest.mark.parametrize(
    "different",
    [
        {"material": material_digest("cert", "other key", "passphrase", None)},
        {"material": material_digest("cert", "key", "other passphrase", None)},
        {"key": KEY._replace(signer="another certificate")},
        {"key": KEY._replace(resource="another resource")},
    ],
)
def test_other_credentials_or_resources_never_get_the_token(
    tmp_path: Path, clock: FakeClock, different: dict[str, Any]
) -> None:
    fetch = Fetcher(clock)
    get(store(tmp_path, clock), fetch, material=material_digest("cert", "key", "passphrase", None))
    assert get(store(tmp_path, clock), fetch, **{"material": b"m", **different}) == "token-2"


def corrupt(folder: Path) -> None:
    (file,) = folder.glob("*.token")
    file.write_bytes(file.read_bytes()[:-5] + b"xxxxx")


def loosen(folder: Path) -> None:
    (file,) = folder.glob("*.token")
    file.chmod(0o644)


def loosen_folder(folder: Path) -> None:
    folder.chmod(0o755)


@pytest.mark.parametrize("spoil", [corrupt, loosen, loosen_folder])
def test_anything_off_means_a_fresh_token_request(tmp_path: Path, clock: FakeClock, spoil: Any) -> None:
    fetch = Fetcher(clock)
    get(store(tmp_path, clock), fetch)
    spoil(tmp_path / "tokens")
    assert get(store(tmp_path, clock), fetch) == "token-2"


def test_a_wrong_fernet_key_or_a_clock_gone_backwards_means_a_fresh_request(
    tmp_path: Path, clock: FakeClock
) -> None:
    fetch = Fetcher(clock)
    get(store(tmp_path, clock), fetch)
    assert get(store(tmp_path, clock, key=Fernet.generate_key().decode()), fetch) == "token-2"
    clock.advance(-3600)
    assert get(store(tmp_path, clock), fetch) == "token-3"


def test_a_refused_token_is_dropped_from_the_store_too(tmp_path: Path, clock: FakeClock) -> None:
    fetch = Fetcher(clock)
    cache = SharedTokenCache(store(tmp_path, clock), b"m", clock=clock)
    token = cache.get_or_fetch(KEY, fetch)
    cache.invalidate(KEY, token)
    assert list((tmp_path / "tokens").glob("*.token")) == []
    assert get(store(tmp_path, clock), fetch) == "token-2"
