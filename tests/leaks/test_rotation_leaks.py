"""No secret of either certificate during a rotation (issue 18): the leak flow of
``test_no_secret_leaks`` with an encrypted next key the sandbox has not registered, so every
task falls back and logs it, searched for both keys and both passphrases."""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.core.rotation import SHARED_ROTATION_MEMORY
from tests.leaks import test_no_secret_leaks as base
from tests.leaks.test_no_secret_leaks import (
    DAGS,
    LOCAL_BUNDLE,
    all_xcoms,
    pem_forms,
    provoked_errors,
    secrets_of,
    texts_of_files,
)
from tests.pki import make_cert

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient` is deprecated"),
]

NEXT_PASSPHRASE = "rotation-leak-passphrase-5e2a"

# The leak flow's fixtures, shared by name.
sandbox = base.sandbox
connection = base.connection
seen = base.seen


@pytest.fixture
def rotating(connection: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    upcoming = make_cert("sandboxclient.example.se", days_valid=400)
    key = upcoming.key_pem(NEXT_PASSPHRASE)
    connection["extra"] |= {
        "next_certificate": upcoming.cert_pem,
        "next_private_key": key,
        "next_private_key_passphrase": NEXT_PASSPHRASE,
    }
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", json.dumps(connection))
    SHARED_TOKEN_CACHE.clear()
    SHARED_ROTATION_MEMORY.clear()
    plain = upcoming.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    found = {"next passphrase": NEXT_PASSPHRASE}
    for index, form in enumerate(pem_forms(plain)):
        found[f"next private key (plain) form {index}"] = form
    for index, form in enumerate(pem_forms(key)):
        found[f"next private key (encrypted) form {index}"] = form
    return found


def test_no_secret_of_either_certificate_during_a_rotation(
    airflow_db,
    sandbox,
    connection,
    rotating,
    seen,
    tmp_path,
    monkeypatch,
    caplog,
    capsys,
    airflow_home,
):
    bundles = [
        {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
        {"name": "rh-leak-tests", "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(DAGS)}},
    ]
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
    landing = tmp_path / "landing"
    monkeypatch.setenv("RH_LEAK_LANDING", landing.as_uri())
    caplog.set_level(logging.DEBUG)
    for name in ("airflow_provider_rh", "httpx", "httpcore", "airflow", "airflow.task"):
        caplog.set_level(logging.DEBUG, logger=name)

    from tests.leaks.dags.rh_leak_flow import dag

    try:
        dag_run = dag.test()
        states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
        assert states == {"use_the_hook": "success", "get_unit": "success", "pull_units": "success"}
        errors = provoked_errors(sandbox)
    finally:
        SHARED_ROTATION_MEMORY.clear()

    records = [record.getMessage() for record in caplog.records]
    records += [
        "".join(traceback.format_exception(*record.exc_info)) for record in caplog.records if record.exc_info
    ]
    printed = capsys.readouterr()
    haystacks: dict[str, str] = {
        **{f"log record {i}": text for i, text in enumerate(records)},
        "stdout": printed.out,
        "stderr": printed.err,
        **{f"xcom {task}/{key}": json.dumps(value, default=str) for task, key, value in all_xcoms(dag_run)},
        **texts_of_files(landing, airflow_home / "logs"),
        **{f"error {i}": text for i, text in enumerate(errors)},
    }
    secrets = {**secrets_of(sandbox, connection, seen), **rotating}

    # The rotation happened: the next certificate was refused, the fallback logged.
    assert any("does not accept the next certificate" in text for text in records)
    assert len(seen.assertions) >= 3
    leaks = [
        f"{what} in {where}"
        for what, secret in secrets.items()
        for where, text in haystacks.items()
        if secret in text
    ]
    assert leaks == []
