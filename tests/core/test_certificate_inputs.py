"""Certificate and key problems are told apart and named as the form labels the fields."""

from __future__ import annotations

import pytest

from airflow_provider_rh.core.credentials import load_credentials
from airflow_provider_rh.exceptions import CertificateError
from tests.pki import make_cert

CERT = make_cert()
OTHER = make_cert("other.example.se")
PASSPHRASE = "pass-phrase-42"


def damaged(pem: str, line: int = 5, pos: int = 20) -> str:
    lines = pem.splitlines()
    chars = list(lines[line])
    chars[pos] = "A" if chars[pos] != "A" else "B"
    lines[line] = "".join(chars)
    return "\n".join(lines) + "\n"


def truncated(pem: str) -> str:
    lines = pem.splitlines()
    return "\n".join(lines[:4] + lines[-1:]) + "\n"


CASES = [
    pytest.param(
        {"certificate": damaged(CERT.cert_pem), "private_key": CERT.key_pem()},
        "certificate",
        "Certificate (PEM) (extra.certificate) is damaged",
        "Paste it again",
        id="cert-char-changed",
    ),
    pytest.param(
        {"certificate": damaged(CERT.cert_pem, line=2, pos=40), "private_key": CERT.key_pem()},
        "certificate",
        "Certificate (PEM) (extra.certificate) is damaged",
        "Paste it again",
        id="cert-char-changed-in-key-part",
    ),
    pytest.param(
        {"certificate": truncated(CERT.cert_pem), "private_key": CERT.key_pem()},
        "certificate",
        "Certificate (PEM) (extra.certificate) is damaged",
        "Paste it again",
        id="cert-truncated",
    ),
    pytest.param(
        {"certificate": "not a certificate", "private_key": CERT.key_pem()},
        "certificate",
        "Certificate (PEM) (extra.certificate) holds no PEM certificate",
        "paste the certificate",
        id="cert-not-pem",
    ),
    pytest.param(
        {"certificate": None, "private_key": CERT.key_pem()},
        "certificate",
        "Certificate (PEM) (extra.certificate) is empty",
        "paste the PEM certificate",
        id="cert-empty",
    ),
    pytest.param(
        {"certificate": CERT.cert_pem, "private_key": OTHER.key_pem()},
        "private_key",
        "Private key (PEM or base64 PKCS#12) (extra.private_key)",
        "Use the key that was generated",
        id="key-from-another-pair",
    ),
    pytest.param(
        {"certificate": CERT.cert_pem, "private_key": "%%% not a key %%%"},
        "private_key",
        "(extra.private_key) is neither a PEM key",
        "paste the key file",
        id="key-garbage",
    ),
    pytest.param(
        {"certificate": CERT.cert_pem, "private_key": truncated(CERT.key_pem())},
        "private_key",
        "(extra.private_key) is not a readable PEM private key",
        "paste the key file",
        id="key-truncated",
    ),
    pytest.param(
        {"certificate": CERT.cert_pem, "private_key": CERT.key_pem(PASSPHRASE)},
        "private_key_passphrase",
        "is encrypted: set Private key passphrase",
        "passphrase",
        id="passphrase-missing",
    ),
    pytest.param(
        {"certificate": CERT.cert_pem, "private_key": CERT.key_pem(PASSPHRASE), "passphrase": "wrong-one"},
        "private_key_passphrase",
        "Private key passphrase (extra.private_key_passphrase) is wrong",
        "Enter the passphrase",
        id="passphrase-wrong",
    ),
    pytest.param(
        {"certificate_path": "/nonexistent/client.pem"},
        "certificate_path",
        "Certificate file path (extra.certificate_path)",
        "readable by the Airflow user",
        id="path-missing",
    ),
    pytest.param(
        {}, "private_key", "No private key configured: set Private key", "Certificate file path", id="nothing"
    ),
]


@pytest.mark.parametrize(("values", "field", "words", "advice"), CASES)
def test_certificate_problem_is_named(values, field, words, advice):
    with pytest.raises(CertificateError) as info:
        load_credentials(**values)
    assert info.value.field == field
    assert words in str(info.value)
    assert advice in str(info.value)
    if values.get("passphrase"):
        assert values["passphrase"] not in str(info.value)


def test_a_damaged_certificate_is_not_reported_as_a_mismatched_key():
    with pytest.raises(CertificateError) as info:
        load_credentials(certificate=damaged(CERT.cert_pem, line=3, pos=10), private_key=CERT.key_pem())
    assert "does not belong" not in str(info.value)
