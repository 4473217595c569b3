"""Test set-up: a private AIRFLOW_HOME with a migrated SQLite database, and shared fixtures.

Airflow reads its configuration when first imported, so the environment is set here, before
any test module imports it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="rh-airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "dags_examples")
os.environ["AIRFLOW__CORE__TEST_CONNECTION"] = "Enabled"
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")

pytest_plugins = ["tests.oidc"]

# Property tests: a short, repeatable profile in `make test`; `make fuzz` runs the long one
# (HYPOTHESIS_PROFILE=fuzz). Both derandomized, so CI cannot turn red on a new random draw; a
# failure found by a long run becomes an @example in its test. The deadline is generous on
# purpose: it catches super-linear work (seconds), not a busy machine (milliseconds).
from hypothesis import HealthCheck, settings  # noqa: E402

_FUZZ_COMMON = {
    "derandomize": True,
    "deadline": 5000,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("default", max_examples=60, **_FUZZ_COMMON)
settings.register_profile("fuzz", max_examples=1000, **_FUZZ_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

AIRFLOW_BIN = str(Path(sys.executable).with_name("airflow"))


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    return _AIRFLOW_HOME


@pytest.fixture(scope="session")
def airflow_db(airflow_home: Path) -> Iterator[Path]:
    """A migrated SQLite metadata database, made once per test session."""
    subprocess.run(
        [AIRFLOW_BIN, "db", "migrate"],
        check=True,
        capture_output=True,
        timeout=300,
        env=os.environ.copy(),
    )
    return airflow_home / "airflow.db"


@pytest.fixture(autouse=True)
def _fresh_secrets_masker() -> Iterator[None]:
    """Each test starts with an empty secrets masker.

    Airflow's masker recompiles one regex over every secret it holds each time one is added,
    so hundreds of throwaway keys and tokens piling up over a session would slow every later
    test; a task process in production holds only its own few.
    """
    yield
    from airflow.sdk._shared.secrets_masker import reset_secrets_masker

    from airflow_provider_rh.core import redact

    reset_secrets_masker()
    # The provider's own registry too: a value one test registered (a fuzzed token "3600", a
    # passphrase "wrong") would otherwise be masked in every later test's messages.
    redact.forget_all()
