"""The provider in a real Airflow: registration, connection form metadata and `connections test`."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from airflow_provider_rh.get_provider_info import CONN_FIELDS
from tests.conftest import AIRFLOW_BIN
from tests.hooks.test_hook_oidc import HSAINFO, connection
from tests.pki import make_cert
from tests.resource_api import resource_api

pytestmark = pytest.mark.airflow


def airflow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AIRFLOW_BIN, *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_airflow_lists_the_connection_type_without_errors(airflow_db):
    result = airflow("providers", "hooks", "--output", "json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout[result.stdout.index("[{") :])  # after any log lines
    hooks = {entry["connection_type"]: entry for entry in listing}
    assert hooks["regionhalland"]["class"] == "airflow_provider_rh.hooks.regionhalland.RegionHallandHook"
    assert "Traceback" not in result.stderr


def test_connection_form_fields_are_declared(airflow_db):
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    widgets = manager.connection_form_widgets
    for name in CONN_FIELDS:
        assert f"extra__regionhalland__{name}" in widgets
    assert widgets["extra__regionhalland__private_key_passphrase"].is_sensitive
    behaviour = manager.field_behaviours["regionhalland"]
    assert behaviour["relabeling"]["login"] == "Client id (required)"


def test_airflow_connections_test_succeeds_against_the_oidc_server(airflow_db, oidc_server):
    verify = lambda token: oidc_server.verify_access_token(token, audience=HSAINFO)  # noqa: E731
    before = len(oidc_server.token_events())
    with resource_api(verify, subscription_key="subscriber-key-for-tests") as base:
        env = {
            "AIRFLOW_CONN_REGIONHALLAND_DEFAULT": connection(oidc_server, host=base),
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        }
        result = airflow("connections", "test", "regionhalland_default", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Connection success!" in output
    assert oidc_server.wait_for_token_events(before + 1)[-1] == (oidc_server.client_id, HSAINFO)
    assert "subscriber-key-for-tests" not in output


def test_airflow_connections_test_reports_the_failing_stage(airflow_db, oidc_server):
    env = {
        "AIRFLOW_CONN_REGIONHALLAND_DEFAULT": connection(oidc_server, resource="https://unknown.example.se"),
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
    }
    result = airflow("connections", "test", "regionhalland_default", env=env)
    output = result.stdout + result.stderr
    assert "Connection failed" in output
    assert "token check failed" in output
    assert "invalid_target" in output


@pytest.mark.parametrize(
    ("key", "stage", "problem"),
    [
        ("timeout", "configuration", "must be a number of seconds per HTTP call, got 'abc'."),
        ("certificate_path", "certificate", "are from different pairs."),
    ],
)
def test_airflow_connections_test_names_the_bad_field_as_the_form_labels_it(
    airflow_db, tmp_path, key, stage, problem
):
    """The message reaches the terminal with the field's form label and its key as
    ``(extra.<key>)``, whole: the CLI prints through rich markup, which ate ``[extra.<key>]``
    (issue 15.8). No server is needed: both checks fail before any network call."""
    mine, other = make_cert(), make_cert()
    if key == "timeout":
        extra = {"certificate": mine.cert_pem, "private_key": mine.key_pem(), "timeout": "abc"}
    else:  # a file with the certificate and another pair's key (issue 15.9)
        bundle = tmp_path / "client.pem"
        bundle.write_text(mine.cert_pem + other.key_pem())
        extra = {"certificate_path": str(bundle)}
    conn = {
        "conn_type": "regionhalland",
        "host": "https://api.example.se/hsainfo/v1",
        "login": "11111111-2222-3333-4444-555555555555",
        "password": "subscriber-key-for-tests",
        "extra": {"auth_url": "https://adfs.example.se/adfs/oauth2/token", **extra},
    }
    env = {
        "AIRFLOW_CONN_REGIONHALLAND_DEFAULT": json.dumps(conn),
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
    }
    result = airflow("connections", "test", "regionhalland_default", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Connection failed!" in output
    # Rich wraps long lines at the console's width, so compare with whitespace runs as one space.
    text = " ".join(output.split())
    named = f"{CONN_FIELDS[key]['label']} (extra.{key})"  # the label the form shows
    assert f"{stage} check failed: " in text, output
    assert named in text, output
    assert problem in text, output
    if key == "certificate_path":  # the field actually used, not the inline ones never set
        assert "(extra.private_key)" not in text
        assert "(extra.certificate)" not in text
    assert "subscriber-key-for-tests" not in output
    assert "PRIVATE KEY" not in output
