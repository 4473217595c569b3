"""``rh-register rotate`` writes the next key beside the current one; ``status`` asks AD FS (sandbox)."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.core.rotation import SHARED_ROTATION_MEMORY
from airflow_provider_rh.registration.__main__ import main
from airflow_provider_rh.sandbox import Sandbox, SandboxConfig

NAME = "minklient.mindoman.se"
PASSPHRASE = "rotation passphrase 42"


@pytest.fixture
def current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["new", "--name", NAME, "--out", str(tmp_path / "reg"), "--organization", "Region"]) == 0
    capsys.readouterr()
    return tmp_path / "reg" / f"{NAME}.pem"


def test_rotate_writes_the_next_files_and_says_what_to_send_and_set(current, monkeypatch, capsys):
    monkeypatch.setenv("RH_TEST_PASSPHRASE", PASSPHRASE)
    code = main(["rotate", "--current", str(current), "--csr", "--passphrase-env", "RH_TEST_PASSPHRASE"])
    assert code == 0
    folder = current.parent
    key, cert, bundle, csr = (
        folder / f"{NAME}.next{suffix}" for suffix in (".key.pem", ".crt.pem", ".pem", ".csr.pem")
    )
    assert "ENCRYPTED PRIVATE KEY" in key.read_text()
    assert bundle.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert "CERTIFICATE REQUEST" in csr.read_text()
    for private in (key, bundle):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    printed = capsys.readouterr().out
    assert f"{NAME}.next.crt.pem" in printed
    assert "ADDITIONAL certificate" in printed
    assert f'"next_certificate_path": "{bundle}"' in printed
    assert "x5t (SHA-1 base64url)" in printed
    subject = x509.load_pem_x509_certificate(cert.read_bytes()).subject.rfc4514_string()
    assert subject == f"O=Region,CN={NAME}"  # the current certificate's organisation carried over
    assert PASSPHRASE not in printed
    for line in key.read_text().splitlines()[1:-1]:
        assert line not in printed
    # The current files are untouched, and a second rotate refuses to overwrite the next ones.
    assert main(["rotate", "--current", str(current)]) == 2
    assert "exists; nothing was written" in capsys.readouterr().err


def test_rotate_refuses_a_file_without_a_certificate(tmp_path, capsys):
    empty = tmp_path / "nothing.pem"
    empty.write_text("not a certificate")
    assert main(["rotate", "--current", str(empty)]) == 2
    assert "holds no PEM certificate" in capsys.readouterr().err


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    SHARED_TOKEN_CACHE.clear()
    SHARED_ROTATION_MEMORY.clear()
    with Sandbox(SandboxConfig(state_dir=tmp_path / "sb", port=0, unit_count=5)) as sb:
        yield sb
    SHARED_TOKEN_CACHE.clear()


@pytest.mark.integration
def test_status_says_which_certificate_adfs_accepts(sandbox, tmp_path, capsys):
    current = tmp_path / "current.pem"
    current.write_text(sandbox.certificate_pem + sandbox.private_key_pem)
    assert main(["rotate", "--current", str(current)]) == 0
    capsys.readouterr()
    bundle = tmp_path / "sandboxclient.example.se.next.pem"
    connection = sandbox.connection
    connection["extra"]["next_certificate_path"] = str(bundle)
    connection_file = tmp_path / "connection.json"
    connection_file.write_text(json.dumps(connection))

    assert main(["status", "--connection-file", str(connection_file)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("current certificate")
    assert printed[0].endswith("AD FS: accepted")
    assert printed[1].startswith("next certificate")
    assert "days left; AD FS: NOT accepted (MSIS9622" in printed[1]

    next_certificate = (tmp_path / "sandboxclient.example.se.next.crt.pem").read_text()
    sandbox.ctx.registry.add_certificate(sandbox.client_id, next_certificate)
    assert main(["status", "--connection-file", str(connection_file)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert all(line.endswith("AD FS: accepted") for line in printed[:2])
