"""A pull of 100,000 records through the storage operator, under every fault the sandbox injects.

Each scenario starts a sandbox (in a worker process, see ``sandbox_worker.py``) with one kind of
fault, or all of them, and pulls through ``RegionHallandApiToStorageOperator.execute``. What
lands must be byte-for-byte what a fault-free run lands; the summary counts every retry and
token request, matching what the server saw; and a fault that outlasts the retry budget fails
with an error naming it, leaving nothing behind. The retry policy's sleep is injected (waits
are recorded, not slept), so the suite's time is the pulls' own.
"""

from __future__ import annotations

import gzip
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.exceptions import ApiError, TokenError, TransportError
from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.sandbox.data import unit
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

from .conftest import SandboxWorker

pytestmark = pytest.mark.integration

RECORDS = 100_000
PAGE = 1000  # the sandbox's largest page: 100 pages

#: Sandbox settings per scenario; seeds chosen so every kind of fault fires at least once.
SCENARIOS: dict[str, dict[str, Any]] = {
    "5xx_10_percent": {"faults": {"seed": 1, "server_error_share": 0.10}},
    "429_5_percent_with_retry_after": {"faults": {"seed": 2, "rate_limit_share": 0.05, "retry_after": 1}},
    "2_percent_dropped_mid_body": {"faults": {"seed": 3, "drop_share": 0.02}},
    # Tokens of 2 s on a server clock that moves 100 ms per reading and not otherwise: they
    # expire every few dozen requests whatever the machine's speed, and the API refuses them
    # (401, then one renewal). The client also renews by its own clock, shortly before expiry.
    "tokens_living_2_seconds": {"token_lifetime": 2, "clock_step": 0.1, "clock_skew": 3600},
    "token_endpoint_down_at_the_start": {"faults": {"token_outage_requests": 3}},
    "all_mixed": {
        "faults": {
            "seed": 4,
            "server_error_share": 0.10,
            "rate_limit_share": 0.05,
            "retry_after": 1,
            "drop_share": 0.02,
            "token_outage_requests": 2,
        },
        "token_lifetime": 2,
        "clock_step": 0.1,
        "clock_skew": 3600,
    },
}


class Waits(list[float]):
    """The retry policy's sleep: records each wait instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def policy(sleep: Callable[[float], None], **kwargs: Any) -> RetryPolicy:
    return RetryPolicy(sleep=sleep, rng=random.Random(0), **kwargs)


def operator(destination: Path, retry: RetryPolicy) -> RegionHallandApiToStorageOperator:
    return RegionHallandApiToStorageOperator(
        task_id="pull_units",
        path="/units",
        query_params={"limit": PAGE},
        records_path="items",
        pagination=NextLinkPagination("next"),
        destination=destination.as_uri(),
        http_retry=retry,
        progress_interval=3600,  # one summary line, not a progress line every few seconds
    )


def use(worker: SandboxWorker, monkeypatch: pytest.MonkeyPatch, **config: Any) -> None:
    connection = worker.start(unit_count=RECORDS, **config)
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", json.dumps(connection))
    SHARED_TOKEN_CACHE.clear()


@pytest.fixture(scope="module")
def fault_free(worker: SandboxWorker, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """What a fault-free pull lands, checked once against the records the sandbox serves."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        use(worker, monkeypatch)
        final = tmp_path_factory.mktemp("fault-free") / "units.ndjson.gz"
        summary = operator(final, policy(Waits())).execute({})
    data = final.read_bytes()
    assert summary["records"] == RECORDS
    assert (summary["retries"], summary["token_requests"]) == (0, 1)
    lines = gzip.decompress(data).splitlines()
    assert len(lines) == RECORDS
    sample = range(0, RECORDS, 997)
    assert [json.loads(lines[i]) for i in sample] == [unit(i + 1) for i in sample]
    assert json.loads(lines[-1])["id"] == RECORDS
    return data


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_record_lands_exactly_as_without_faults(
    scenario: str,
    worker: SandboxWorker,
    fault_free: bytes,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    config = SCENARIOS[scenario]
    use(worker, monkeypatch, **config)
    waits = Waits()
    retry = policy(waits)
    final = tmp_path / "units.ndjson.gz"

    summary = operator(final, retry).execute({})
    server = worker.stats()

    assert final.read_bytes() == fault_free  # byte for byte: nothing lost, nothing twice
    assert sorted(p.name for p in tmp_path.iterdir()) == ["units.ndjson.gz"]  # no temporaries left
    assert summary["records"] == RECORDS
    # Every injected fault (5xx, 429, dropped connection, token outage) cost exactly one retry.
    injected = sum(server["faults"].values())
    assert summary["retries"] == injected == len(waits)
    assert summary["token_requests"] == server["token_requests"]
    for kind in config.get("faults", {}):
        fired = {
            "server_error_share": [k for k in server["faults"] if k.startswith("5")],
            "rate_limit_share": [k for k in server["faults"] if k == "429"],
            "drop_share": [k for k in server["faults"] if k == "drop"],
            "token_outage_requests": [k for k in server["faults"] if k == "token_outage"],
        }.get(kind)
        assert fired is None or fired, f"{kind} never fired: {server['faults']}"
    if "429" in server["faults"]:  # Retry-After honoured (1 s, above the floor, below the cap)
        assert waits.count(1.0) >= server["faults"]["429"]
    # Bounded: no wait above the policy's longest backoff or its Retry-After cap.
    longest = max(retry.backoff_max * (1 + retry.jitter), retry.retry_after_cap)
    assert all(0 < wait <= longest for wait in waits)
    if config.get("token_lifetime"):
        assert summary["token_requests"] >= 3  # renewed several times during the pull
    if "token_outage_requests" in config.get("faults", {}):
        outage = config["faults"]["token_outage_requests"]
        assert server["tokens_issued"] == server["token_requests"] - outage


def small_pull(tmp_path: Path, retry: RetryPolicy) -> RegionHallandApiToStorageOperator:
    return operator(tmp_path / "units.ndjson.gz", retry)


def test_an_api_that_stays_down_fails_naming_the_status_after_the_attempts(
    worker: SandboxWorker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use(worker, monkeypatch, faults={"server_error_share": 1.0, "server_error_statuses": [503]})
    waits = Waits()
    pull = small_pull(tmp_path, policy(waits))
    with pytest.raises(ApiError) as info:
        pull.execute({})
    assert info.value.status_code == 503
    assert "HTTP 503" in str(info.value)
    assert pull.retry_stats.gave_up == "gave up after 5 attempts: HTTP 503"
    assert len(waits) == 4
    assert worker.stats()["api_requests"] == 5
    assert list(tmp_path.iterdir()) == []  # nothing landed, no temporary left


def test_connections_that_always_drop_fail_naming_the_transport_error(
    worker: SandboxWorker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use(worker, monkeypatch, faults={"drop_share": 1.0})
    pull = small_pull(tmp_path, policy(Waits()))
    with pytest.raises(TransportError) as info:
        pull.execute({})
    assert "RemoteProtocolError" in str(info.value)
    assert "gave up after 5 attempts" in str(info.value)
    assert pull.retry_stats.gave_up == "gave up after 5 attempts: RemoteProtocolError"
    assert list(tmp_path.iterdir()) == []


def test_a_token_endpoint_that_stays_down_fails_naming_its_status(
    worker: SandboxWorker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use(worker, monkeypatch, faults={"token_outage_requests": 1000})
    pull = small_pull(tmp_path, policy(Waits()))
    with pytest.raises(TokenError) as info:
        pull.execute({})
    assert info.value.status_code == 503
    assert "HTTP 503" in str(info.value)
    assert pull.retry_stats.gave_up == "gave up after 5 attempts: HTTP 503"
    assert pull.retry_stats.token_requests == worker.stats()["token_requests"] == 5
    assert worker.stats()["api_requests"] == 0
    assert list(tmp_path.iterdir()) == []


def test_rate_limiting_beyond_the_time_budget_stops_at_the_budget(
    worker: SandboxWorker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Real sleeps here: the budget is wall time. 1 s waits within 2.5 s allow at most 3 tries."""
    use(worker, monkeypatch, faults={"rate_limit_share": 1.0, "retry_after": 1})
    pull = small_pull(tmp_path, policy(time.sleep, attempts=50, total_seconds=2.5))
    with pytest.raises(ApiError) as info:
        pull.execute({})
    assert info.value.status_code == 429
    assert "HTTP 429" in str(info.value)
    assert pull.retry_stats.gave_up is not None
    assert pull.retry_stats.gave_up.endswith(": HTTP 429")
    assert worker.stats()["api_requests"] <= 3  # the time budget, not the 50 attempts, ended it
    assert list(tmp_path.iterdir()) == []
