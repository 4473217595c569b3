"""``rh-register`` refuses what it cannot do safely, with a message, and never writes elsewhere."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from airflow_provider_rh.registration import new_private_key, self_signed_certificate
from airflow_provider_rh.registration.__main__ import main

NAME = "minklient.mindoman.se"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def fast_keys(monkeypatch):
    """One 2048-bit key for every ``new`` here: input handling is under test, not key generation."""
    keys: dict[str | None, str] = {}

    def new_key(passphrase: str | None) -> str:
        return keys.setdefault(passphrase, new_private_key(passphrase, key_size=2048))

    monkeypatch.setattr("airflow_provider_rh.registration.__main__.new_private_key", new_key)


def test_a_planted_link_does_not_redirect_the_private_key(tmp_path: Path, capsys, fast_keys):
    out = tmp_path / "reg"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    (out / f"{NAME}.key.pem").symlink_to(victim)
    for extra in ([], ["--force"]):
        assert main(["new", "--name", NAME, "--out", str(out), *extra]) == 2
        assert "is a symbolic link; nothing was written" in capsys.readouterr().err
    assert victim.read_text() == "untouched"
    assert sorted(p.name for p in out.iterdir()) == [f"{NAME}.key.pem"]  # nothing else written either


def test_a_dangling_link_is_refused_too(tmp_path: Path, capsys, fast_keys):
    out = tmp_path / "reg"
    out.mkdir()
    (out / f"{NAME}.pem").symlink_to(tmp_path / "would-be-created.pem")
    assert main(["new", "--name", NAME, "--out", str(out)]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert not (tmp_path / "would-be-created.pem").exists()


def test_force_replaces_the_file_not_what_it_pointed_to(tmp_path: Path, fast_keys):
    out = tmp_path / "reg"
    assert main(["new", "--name", NAME, "--out", str(out)]) == 0
    key = out / f"{NAME}.key.pem"
    before = key.stat().st_ino
    assert main(["new", "--name", NAME, "--out", str(out), "--force"]) == 0
    assert key.stat().st_ino != before  # a new file moved into place
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_an_output_folder_that_is_a_link_is_refused(tmp_path: Path, capsys, fast_keys):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "reg").symlink_to(tmp_path / "elsewhere")
    assert main(["new", "--name", NAME, "--out", str(tmp_path / "reg")]) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("../evil", "not a path"),
        ("/tmp/evil", "not a path"),
        ("a/b", "not a path"),
        ("..", "not a path"),
        ("", "is empty"),
        ("   ", "is empty"),
        ("x" * 65, "at most 64"),
        ("x" * 300, "at most 64"),
        ("bad\nname", "control characters"),
    ],
)
def test_names_that_are_not_plain_names_are_refused(
    tmp_path: Path, monkeypatch, capsys, name, says, fast_keys
):
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert main(["new", "--name", name]) == 2
    err = capsys.readouterr().err
    assert says in err
    assert "Traceback" not in err
    assert list(tmp_path.rglob("*.pem")) == []


def test_a_64_character_name_is_the_longest_accepted(tmp_path: Path, fast_keys):
    name = "x" * 64
    assert main(["new", "--name", name, "--out", str(tmp_path)]) == 0
    cert = x509.load_pem_x509_certificate((tmp_path / f"{name}.crt.pem").read_bytes())
    assert cert.subject.rfc4514_string() == f"CN={name}"


@pytest.mark.parametrize("days", ["0", "-5", "3651", "100000000"])
def test_days_outside_one_to_ten_years_are_refused(tmp_path: Path, capsys, days, fast_keys):
    assert main(["new", "--name", NAME, "--out", str(tmp_path), "--days", days]) == 2
    assert "--days must be between 1 and 3650" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_short_passphrase_from_the_environment_is_refused_like_a_typed_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RH_TEST_PASSPHRASE", "short")
    code = main(["new", "--name", NAME, "--out", str(tmp_path), "--passphrase-env", "RH_TEST_PASSPHRASE"])
    assert code == 2
    err = capsys.readouterr().err
    assert "at least 12 characters ($RH_TEST_PASSPHRASE)" in err
    assert list(tmp_path.iterdir()) == []


def test_thumbprints_of_a_der_certificate(tmp_path: Path, capsys):
    pem = self_signed_certificate(new_private_key(key_size=2048), NAME)
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    (tmp_path / "c.pem").write_text(pem)
    (tmp_path / "c.cer").write_bytes(der)
    assert main(["thumbprints", str(tmp_path / "c.pem")]) == 0
    from_pem = capsys.readouterr().out
    assert main(["thumbprints", str(tmp_path / "c.cer")]) == 0
    assert capsys.readouterr().out == from_pem
    assert f"CN={NAME}" in from_pem


@pytest.mark.parametrize("content", [b"\xff\xfe not text", b"", b"-----BEGIN PRIVATE KEY-----\nAAAA\n"])
def test_thumbprints_of_something_else_is_a_clear_error(tmp_path: Path, capsys, content):
    (tmp_path / "f").write_bytes(content)
    assert main(["thumbprints", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert "Not a certificate" in err
    assert "Traceback" not in err


def _encrypted_bundle(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("RH_TEST_PASSPHRASE", PASSPHRASE)
    assert (
        main(
            ["new", "--name", NAME, "--out", str(tmp_path / "reg"), "--passphrase-env", "RH_TEST_PASSPHRASE"]
        )
        == 0
    )
    return tmp_path / "reg" / f"{NAME}.pem"


CONNECTION = [
    "--client-id",
    "c",
    "--auth-url",
    "https://adfs.example.se/adfs/oauth2/token/",
    "--host",
    "https://api.example.se",
]


def test_an_encrypted_key_without_passphrase_env_names_the_flag(
    tmp_path: Path, monkeypatch, capsys, fast_keys
):
    bundle = _encrypted_bundle(tmp_path, monkeypatch)
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)
    assert main(["connection", "--certificate-path", str(bundle), *CONNECTION]) == 2
    err = capsys.readouterr().err
    assert "--passphrase-env" in err
    assert "extra." not in err  # the flag, not the connection field


def test_the_printed_lines_carry_no_secret(tmp_path: Path, monkeypatch, capsys, fast_keys):
    bundle = _encrypted_bundle(tmp_path, monkeypatch)
    monkeypatch.setenv("RH_TEST_SUBSCRIBER_KEY", "sub-key-0123456789abcdef")
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    args = ["connection", "--certificate-path", str(bundle), *CONNECTION,
            "--passphrase-env", "RH_TEST_PASSPHRASE",
            "--subscriber-key-env", "RH_TEST_SUBSCRIBER_KEY", "--conn-id", "rh_prod"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert PASSPHRASE not in printed
    assert "sub-key-0123456789abcdef" not in printed
    assert "airflow connections import rh_prod.json" in printed
    written = json.loads((tmp_path / "rh_prod.json").read_text())
    assert written["rh_prod"]["password"] == "sub-key-0123456789abcdef"
    assert written["rh_prod"]["extra"]["private_key_passphrase"] == PASSPHRASE
    assert stat.S_IMODE((tmp_path / "rh_prod.json").stat().st_mode) == 0o600
    # Run again: the file is not replaced without --force.
    assert main(args) == 2
    assert "exists" in capsys.readouterr().err


def test_a_conn_id_with_a_dash_gets_a_line_a_shell_can_run(tmp_path: Path, monkeypatch, capsys, fast_keys):
    import subprocess
    import sys

    main(["new", "--name", NAME, "--out", str(tmp_path / "reg")])
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    bundle = str(tmp_path / "reg" / f"{NAME}.pem")
    assert main(["connection", "--certificate-path", bundle, *CONNECTION, "--conn-id", "rh-prod"]) == 0
    printed = capsys.readouterr().out
    assert "export AIRFLOW_CONN_RH-PROD" not in printed
    assert "--conn-id rh_prod" in printed
    [line] = [line for line in printed.splitlines() if line.startswith("env ")]
    # What Airflow reads: AIRFLOW_CONN_ + the id upper-cased; run the line with a stand-in command.
    runnable = line.replace("airflow connections test rh-prod", "env")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    result = subprocess.run(
        ["bash", "-c", runnable], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    [value] = [
        v.partition("=")[2] for v in result.stdout.splitlines() if v.startswith("AIRFLOW_CONN_RH-PROD=")
    ]
    assert json.loads(value)["login"] == "c"


def test_a_conn_id_airflow_would_refuse_is_refused(tmp_path: Path, monkeypatch, capsys, fast_keys):
    main(["new", "--name", NAME, "--out", str(tmp_path / "reg")])
    monkeypatch.chdir(tmp_path)
    bundle = str(tmp_path / "reg" / f"{NAME}.pem")
    assert main(["connection", "--certificate-path", bundle, *CONNECTION, "--conn-id", "../x y"]) == 2
    assert "--conn-id may hold" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.json"))
