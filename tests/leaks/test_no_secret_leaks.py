"""No secret anywhere: the whole flow at DEBUG, searched for every secret it handled (issue 8).

The flow runs as a user runs it: a real Airflow (``dag.test()``, migrated SQLite) with a task
using the hook (Test included), the API operator and a pull to storage, against the sandbox,
with an encrypted private key. The sandbox side records every client assertion it received and
every access token it issued. Then every log record, everything printed, every XCom value,
every file written (landing and task logs) and the text of errors provoked on purpose are
searched for the private key (PEM, one-line body and each of its lines), the passphrase, the
subscriber key, the assertions and the tokens.
"""

from __future__ import annotations

import gzip
import json
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.exceptions import RegionHallandError
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.sandbox import Sandbox, SandboxConfig
from airflow_provider_rh.sandbox import tokens as sandbox_tokens

pytestmark = [
    pytest.mark.airflow,
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient` is deprecated"),
]

DAGS = Path(__file__).parent / "dags"
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
PASSPHRASE = "leak-test-passphrase-7d1f"


class Seen:
    """What the sandbox saw: assertions received, tokens issued."""

    def __init__(self) -> None:
        self.assertions: list[str] = []
        self.tokens: list[str] = []


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Seen:
    record = Seen()
    original = sandbox_tokens.issue

    def issue(ctx: Any, form: Any, *, now: float) -> dict[str, Any]:
        if form.get("client_assertion"):
            record.assertions.append(form["client_assertion"])
        body = original(ctx, form, now=now)
        record.tokens.append(body["access_token"])
        return body

    monkeypatch.setattr(sandbox_tokens, "issue", issue)
    return record


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = Sandbox(SandboxConfig(state_dir=tmp_path_factory.mktemp("sandbox"), port=0, unit_count=120)).start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def connection(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The sandbox's connection with its key encrypted, as a careful user would store it."""
    key = serialization.load_pem_private_key(sandbox.private_key_pem.encode(), password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    ).decode()
    conn = sandbox.connection
    conn["extra"] = {**conn["extra"], "private_key": encrypted, "private_key_passphrase": PASSPHRASE}
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", json.dumps(conn))
    SHARED_TOKEN_CACHE.clear()
    return conn


def pem_forms(pem: str) -> list[str]:
    lines = [line.strip() for line in pem.splitlines() if line.strip() and not line.startswith("-----")]
    return [pem, pem.strip(), "".join(lines), *[line for line in lines if len(line) >= 16]]


def secrets_of(sandbox: Sandbox, connection: dict[str, Any], seen: Seen) -> dict[str, str]:
    found: dict[str, str] = {"passphrase": PASSPHRASE, "subscriber key": sandbox.subscription_key}
    for index, form in enumerate(pem_forms(sandbox.private_key_pem)):
        found[f"private key (plain) form {index}"] = form
    for index, form in enumerate(pem_forms(connection["extra"]["private_key"])):
        found[f"private key (encrypted) form {index}"] = form
    for index, assertion in enumerate(seen.assertions):
        found[f"assertion {index}"] = assertion
        found[f"assertion {index} signature"] = assertion.rsplit(".", 1)[-1]
    for index, token in enumerate(seen.tokens):
        found[f"token {index}"] = token
        found[f"token {index} signature"] = token.rsplit(".", 1)[-1]
    return found


def texts_of_files(*folders: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for folder in folders:
        for path in folder.rglob("*"):
            if not path.is_file():
                continue
            raw = path.read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            texts[str(path)] = raw.decode("utf-8", errors="replace")
    return texts


def all_xcoms(dag_run: Any) -> list[Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag_run.dag_id)).all()
        return [(row.task_id, row.key, XComModel.deserialize_value(row)) for row in rows]


def provoked_errors(sandbox: Sandbox) -> list[str]:
    """Errors on purpose, each after the server saw (or echoed) secrets; their full tracebacks."""
    texts: list[str] = []
    hook = RegionHallandHook()
    calls = [
        lambda: hook.request("GET", "/no-such-path"),  # 404 with the gateway's body
        lambda: hook.get_token(resource="unknown.example.se"),  # MSIS9602 from the token endpoint
        lambda: hook.request("GET", "https://user:pw@127.0.0.1/units"),  # userinfo refused
    ]
    for call in calls:
        try:
            call()
        except RegionHallandError as exc:
            texts.append("".join(traceback.format_exception(exc)))
    assert len(texts) == len(calls)  # each call did fail
    return texts


def test_no_secret_in_logs_xcom_files_or_errors(
    airflow_db, sandbox, connection, seen, tmp_path, monkeypatch, caplog, capsys, airflow_home
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
        caplog.set_level(logging.DEBUG, logger=name)  # restored after the test

    from tests.leaks.dags.rh_leak_flow import dag

    dag_run = dag.test()
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states == {"use_the_hook": "success", "get_unit": "success", "pull_units": "success"}
    errors = provoked_errors(sandbox)

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
    secrets = secrets_of(sandbox, connection, seen)

    # The search covers something: the flow ran, logged at DEBUG, landed data and met secrets.
    assert len(seen.assertions) >= 2
    assert len(seen.tokens) >= 1
    assert any("HTTP Request" in text for text in records)  # httpx's own DEBUG/INFO lines
    assert any(name.endswith("units.ndjson.gz") for name in haystacks)
    assert any("MSIS9602" in text for text in errors)
    leaks = [
        f"{what} in {where}"
        for what, secret in secrets.items()
        for where, text in haystacks.items()
        if secret in text
    ]
    assert leaks == []
