"""``rh-register`` from the first key to a connection that reaches the (sandbox's) API."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.registration.__main__ import main
from airflow_provider_rh.sandbox import Sandbox, SandboxConfig

NAME = "minklient.mindoman.se"
HSAINFO = "hsainfoapi.regionhalland.se"
PASSPHRASE = "correct horse battery staple"


def _shell_value(line: str, variable: str, cwd: Path) -> str:
    """Run a printed line in bash, with the venv's Python as python3, and return the variable."""
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    script = f'{line}\nprintf %s "${variable}"'
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, cwd=cwd, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _files(folder: Path) -> dict[str, Path]:
    return {kind: folder / f"{NAME}{suffix}" for kind, suffix in
            (("key", ".key.pem"), ("cert", ".crt.pem"), ("bundle", ".pem"), ("csr", ".csr.pem"))}  # fmt: skip


def test_new_writes_key_certificate_bundle_and_csr(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("RH_TEST_PASSPHRASE", PASSPHRASE)
    out = tmp_path / "reg"
    assert (
        main(["new", "--name", NAME, "--out", str(out), "--csr", "--passphrase-env", "RH_TEST_PASSPHRASE"])
        == 0
    )
    files = _files(out)
    assert "ENCRYPTED PRIVATE KEY" in files["key"].read_text()
    assert files["bundle"].read_text().startswith("-----BEGIN CERTIFICATE-----")
    for private in ("key", "bundle"):
        assert stat.S_IMODE(files[private].stat().st_mode) == 0o600
    assert "CERTIFICATE REQUEST" in files["csr"].read_text()
    printed = capsys.readouterr().out
    assert "x5t (SHA-1 base64url)" in printed
    assert "SHA-256 thumbprint" in printed
    assert PASSPHRASE not in printed


def test_new_never_overwrites_without_force(tmp_path: Path, capsys):
    out = tmp_path / "reg"
    assert main(["new", "--name", NAME, "--out", str(out)]) == 0
    before = _files(out)["key"].read_text()
    assert main(["new", "--name", NAME, "--out", str(out)]) == 2
    assert "exists; nothing was written" in capsys.readouterr().err
    assert _files(out)["key"].read_text() == before


def test_connection_refuses_a_wrong_passphrase_before_airflow_does(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("RH_TEST_PASSPHRASE", PASSPHRASE)
    main(["new", "--name", NAME, "--out", str(tmp_path), "--passphrase-env", "RH_TEST_PASSPHRASE"])
    monkeypatch.setenv("RH_TEST_PASSPHRASE", "not the passphrase")
    code = main(["connection", "--certificate-path", str(_files(tmp_path)["bundle"]), "--client-id", "c",
                 "--auth-url", "https://adfs.example.se/adfs/oauth2/token/", "--host", "https://api.example.se",
                 "--passphrase-env", "RH_TEST_PASSPHRASE"])  # fmt: skip
    assert code == 2
    assert "passphrase" in capsys.readouterr().err


@pytest.mark.integration
def test_a_registered_client_reaches_the_api(tmp_path: Path, monkeypatch, capsys):
    """The whole way: key and certificate, the region registers them, the connection works."""
    main(["new", "--name", NAME, "--out", str(tmp_path / "reg")])
    files = _files(tmp_path / "reg")
    with Sandbox(SandboxConfig(state_dir=tmp_path / "sb", port=0)) as sb:
        # What the region's people do: register the certificate, grant the resource and scope.
        client_id = sb.register_client(files["cert"].read_text(), name=NAME)
        sb.register_resource(HSAINFO, scopes=["hsainfoapi.read"], allowed_clients=[client_id, sb.client_id])
        monkeypatch.setenv("RH_TEST_SUBSCRIBER_KEY", sb.subscription_key)
        capsys.readouterr()
        args = ["connection", "--certificate-path", str(files["bundle"]), "--client-id", client_id,
                "--auth-url", sb.token_url, "--host", sb.base_url, "--resource", HSAINFO,
                "--scopes", "hsainfoapi.read", "--test-path", "/health",
                "--subscriber-key-env", "RH_TEST_SUBSCRIBER_KEY", "--conn-id", "rh_registered"]  # fmt: skip
        monkeypatch.chdir(tmp_path)
        assert main(args) == 0
        printed = capsys.readouterr().out
        # No secret on a line to paste: the printed line reads the file it wrote.
        assert sb.subscription_key not in printed
        [line] = [x for x in printed.splitlines() if x.startswith("export AIRFLOW_CONN_RH_REGISTERED=")]
        value = _shell_value(line, "AIRFLOW_CONN_RH_REGISTERED", tmp_path)
        assert json.loads(value)["login"] == client_id
        assert json.loads(value)["password"] == sb.subscription_key
        assert stat.S_IMODE((tmp_path / "rh_registered.json").stat().st_mode) == 0o600
        monkeypatch.setenv("AIRFLOW_CONN_RH_REGISTERED", value)
        ok, message = RegionHallandHook("rh_registered").test_connection()
    assert ok, message
    assert HSAINFO in message


def test_the_console_script_is_installed():
    script = Path(sys.executable).with_name("rh-register")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("new", "thumbprints", "connection"):
        assert command in result.stdout
