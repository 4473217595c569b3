"""The scheduled certificate check fails and passes on the right day (an injected "now")."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Iterator

import pytest

from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.core.rotation import check_connection, expiry_warnings, load_signers
from airflow_provider_rh.exceptions import CertificateError, ConfigurationError
from airflow_provider_rh.operators.certificates import (
    RegionHallandCertificateCheckOperator,
    connection_ids_of_our_type,
    find_connections,
)
from airflow_provider_rh.sandbox import Sandbox, SandboxConfig
from tests.pki import make_cert
from tests.sandbox.helpers import HSAINFO

from .support import secrets_of

DAY = dt.timedelta(days=1)
CURRENT = make_cert("minklient.example.se", days_valid=90)
NEXT = make_cert("minklient.example.se", days_valid=730)
ENDS = CURRENT.cert.not_valid_after_utc


def config(*, with_next: bool = False, days: int | None = None) -> ClientConfig:
    extra = {"auth_url": "https://adfs.example.se/adfs/oauth2/token/"}
    extra |= {"certificate": CURRENT.cert_pem, "private_key": CURRENT.key_pem()}
    if with_next:
        extra |= {"next_certificate": NEXT.cert_pem, "next_private_key": NEXT.key_pem()}
    if days is not None:
        extra["expiry_warning_days"] = str(days)
    return ClientConfig.from_connection_fields(host=None, login="client", password=None, extra=extra)


@pytest.mark.parametrize(
    ("before_expiry", "passes"),
    [
        (31 * DAY, True),
        (30 * DAY, True),  # exactly 30 days left: not yet inside the 30-day period
        (30 * DAY - dt.timedelta(seconds=1), False),  # 29 days and change: inside
        (DAY, False),
    ],
)
def test_the_check_fails_from_the_first_day_inside_the_warning_period(before_expiry, passes):
    now = ENDS - before_expiry
    signers = load_signers(config(), now=now)
    result = check_connection("hsainfo", signers, now=now, days=30)
    assert result.ok is passes, str(result)
    assert f"{(ENDS - now).days} day" in str(result)
    if not passes:
        assert "start a rotation" in str(result)


def test_the_warning_period_is_configurable_per_connection():
    now = ENDS - 45 * DAY
    cfg = config(days=60)
    assert cfg.expiry_warning_days == 60
    assert not check_connection("c", load_signers(cfg, now=now), now=now, days=cfg.expiry_warning_days).ok
    assert check_connection("c", load_signers(config(), now=now), now=now, days=30).ok


@pytest.mark.parametrize("value", ["-1", "soon", "99999", True])
def test_a_bad_warning_period_names_the_field(value):
    with pytest.raises(ConfigurationError) as info:
        ClientConfig.from_connection_fields(
            host=None,
            login="client",
            password=None,
            extra={"auth_url": "https://a.example.se/t/", "expiry_warning_days": value},
        )
    assert info.value.field == "expiry_warning_days"
    assert "Expiry warning (days) (extra.expiry_warning_days)" in str(info.value)


@pytest.mark.parametrize(("accepted", "passes"), [(True, True), (False, False), (None, False)])
def test_inside_the_period_an_accepted_next_certificate_passes(accepted, passes):
    now = ENDS - 10 * DAY
    signers = load_signers(config(with_next=True), now=now)
    asked: list[bool] = []

    def next_accepted() -> bool | None:
        asked.append(True)
        return accepted

    result = check_connection("c", signers, now=now, days=30, next_accepted=next_accepted)
    assert result.ok is passes, str(result)
    assert asked == [True]
    # Outside the period AD FS is not even asked.
    early = ENDS - 60 * DAY
    asked.clear()
    assert check_connection("c", signers, now=early, days=30, next_accepted=next_accepted).ok
    assert asked == []


def test_tasks_warn_inside_the_period_with_what_to_do():
    now = ENDS - 12 * DAY
    lines = expiry_warnings(load_signers(config(), now=now), now=now, days=30)
    assert len(lines) == 1
    assert "12 days left" in lines[0]
    assert "rh-register rotate" in lines[0]
    with_next = expiry_warnings(load_signers(config(with_next=True), now=now), now=now, days=30)
    assert "A next certificate is set" in with_next[0]
    assert expiry_warnings(load_signers(config(), now=ENDS - 40 * DAY), now=ENDS - 40 * DAY, days=30) == []


# -- the operator, against the sandbox ------------------------------------------------------
@pytest.fixture
def sandbox(tmp_path) -> Iterator[Sandbox]:
    SHARED_TOKEN_CACHE.clear()
    with Sandbox(SandboxConfig(state_dir=tmp_path / "sb", port=0, unit_count=5)) as sb:
        yield sb
    SHARED_TOKEN_CACHE.clear()


def _connection(sb: Sandbox, client_id: str, *, with_next: bool) -> str:
    extra = {
        "auth_url": sb.token_url,
        "certificate": CURRENT.cert_pem,
        "private_key": CURRENT.key_pem(),
        "resource": HSAINFO,
        "scopes": "hsainfoapi.read",
    }
    if with_next:
        extra |= {"next_certificate": NEXT.cert_pem, "next_private_key": NEXT.key_pem()}
    return json.dumps(
        {
            "conn_type": "regionhalland",
            "host": sb.base_url,
            "login": client_id,
            "password": "subscriber-key-1",
            "extra": extra,
        }
    )


@pytest.mark.integration
def test_operator_checks_every_connection_of_our_type_and_fails_on_the_right_day(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    plain = sandbox.register_client(CURRENT.cert_pem)
    rotating = sandbox.register_client(CURRENT.cert_pem)
    sandbox.register_resource(HSAINFO, ["hsainfoapi.read"], [plain, rotating])
    monkeypatch.setenv("AIRFLOW_CONN_RH_PLAIN", _connection(sandbox, plain, with_next=False))
    monkeypatch.setenv("AIRFLOW_CONN_RH_ROTATING", _connection(sandbox, rotating, with_next=True))
    monkeypatch.setenv("AIRFLOW_CONN_OTHER_HTTP", "http://example.se")
    assert {"rh_plain", "rh_rotating"} <= set(connection_ids_of_our_type())
    assert "other_http" not in connection_ids_of_our_type()
    ids = ["rh_plain", "rh_rotating"]

    def check(now: dt.datetime) -> RegionHallandCertificateCheckOperator:
        return RegionHallandCertificateCheckOperator(task_id="certificates", conn_ids=ids, now=lambda: now)

    caplog.set_level(logging.INFO)
    # 31 days before expiry: both pass; the result lists days left, no secret.
    result = check(ENDS - 31 * DAY).execute({})
    assert [r["ok"] for r in result] == [True, True]
    assert "31 days left" in " ".join(result[0]["lines"])
    # 20 days before: the plain one needs a rotation, and the rotating one's next certificate is
    # not registered yet: the task fails naming both.
    with pytest.raises(CertificateError) as failed:
        check(ENDS - 20 * DAY).execute({})
    message = str(failed.value)
    assert "2 of 2 connection(s)" in message
    assert "rh_plain: ACTION NEEDED" in message
    assert "does not accept the next certificate yet" in message
    # The region registers the next certificate: only the plain connection still fails.
    sandbox.ctx.registry.add_certificate(rotating, NEXT.cert_pem)
    with pytest.raises(CertificateError) as still:
        check(ENDS - 20 * DAY).execute({})
    assert "1 of 2 connection(s)" in str(still.value)
    assert "rh_rotating" not in str(still.value)
    passed = RegionHallandCertificateCheckOperator(
        task_id="c", conn_ids=["rh_rotating"], now=lambda: ENDS - 20 * DAY
    ).execute({})
    assert passed[0]["ok"]
    assert "AD FS accepts the next certificate" in " ".join(passed[0]["lines"])
    texts = [r.getMessage() for r in caplog.records] + [message, str(still.value), json.dumps(result)]
    for secret in secrets_of(CURRENT, NEXT):
        assert not any(secret in text for text in texts)


def test_a_missing_connection_fails_the_check(monkeypatch: pytest.MonkeyPatch):
    operator = RegionHallandCertificateCheckOperator(task_id="c", conn_ids=["rh_nowhere"])
    with pytest.raises(CertificateError, match="rh_nowhere: ACTION NEEDED: cannot be read"):
        operator.execute({})


# -- what the check can list: environment, database (not under a scheduler), secrets backends ----
def _env_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one regionhalland connection is in the environment; it has 60 days left."""
    for name in [n for n in os.environ if n.startswith("AIRFLOW_CONN_")]:
        monkeypatch.delenv(name)
    connection = {
        "conn_type": "regionhalland",
        "host": "https://api.example.se/hsainfo/v1",
        "login": "client",
        "password": "subscriber-key-1",
        "extra": {
            "auth_url": "https://adfs.example.se/adfs/oauth2/token/",
            "certificate": CURRENT.cert_pem,
            "private_key": CURRENT.key_pem(),
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_RH_FROM_ENV", json.dumps(connection))
    monkeypatch.setenv("AIRFLOW_CONN_RH_URI", "regionhalland://client@api.example.se")


def _block_the_database_as_a_scheduled_task_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """What Airflow 3's task supervisor does before task code runs (``block_orm_access``)."""
    from airflow import settings
    from airflow.sdk.execution_time.supervisor import BlockedDBSession

    monkeypatch.setattr(settings, "Session", BlockedDBSession, raising=False)


def test_under_a_scheduler_the_database_cannot_be_listed_and_the_check_says_so(
    monkeypatch: pytest.MonkeyPatch,
):
    _env_only(monkeypatch)
    _block_the_database_as_a_scheduled_task_has_it(monkeypatch)
    found = find_connections()
    assert found.conn_ids == ["rh_from_env", "rh_uri"]  # JSON and URI forms
    (reason,) = found.unlisted
    assert "Direct database access via the ORM is not allowed" in reason
    assert "connections made in the UI" in reason
    monkeypatch.delenv("AIRFLOW_CONN_RH_URI")
    # Without conn_ids the check cannot vouch for connections it never saw: it fails, saying why.
    now = ENDS - 60 * DAY
    operator = RegionHallandCertificateCheckOperator(task_id="c", now=lambda: now, ask_adfs=False)
    with pytest.raises(CertificateError) as failed:
        operator.execute({})
    message = str(failed.value)
    assert "may not have been checked" in message
    assert "Checked: rh_from_env." in message
    assert "conn_ids=[...]" in message
    assert "need a certificate rotation" not in message  # the one it saw is fine
    # Named, every connection is read from wherever it is defined: the check passes.
    named = RegionHallandCertificateCheckOperator(task_id="c", conn_ids=["rh_from_env"], now=lambda: now)
    assert [r["ok"] for r in named.execute({})] == [True]


def test_a_configured_secrets_backend_is_named_as_unlisted(monkeypatch: pytest.MonkeyPatch):
    _env_only(monkeypatch)
    _block_the_database_as_a_scheduled_task_has_it(monkeypatch)
    monkeypatch.setenv("AIRFLOW__WORKERS__SECRETS_BACKEND", "example.secrets.VaultLikeBackend")
    found = find_connections()
    assert any(
        "secrets backend example.secrets.VaultLikeBackend cannot be listed" in u for u in found.unlisted
    )
    operator = RegionHallandCertificateCheckOperator(task_id="c", now=lambda: ENDS - 60 * DAY)
    with pytest.raises(CertificateError, match="VaultLikeBackend cannot be listed"):
        operator.execute({})


def test_no_connection_and_nothing_unlisted_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch):
    import airflow_provider_rh.operators.certificates as certificates

    for name in [n for n in os.environ if n.startswith("AIRFLOW_CONN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setattr(certificates, "_database_connection_ids", list)
    monkeypatch.setattr(certificates, "_secrets_backends", list)
    with pytest.raises(ConfigurationError, match="No connection of type 'regionhalland' found"):
        RegionHallandCertificateCheckOperator(task_id="c").execute({})
