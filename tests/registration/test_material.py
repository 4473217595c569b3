"""Keys, certificates, CSRs and thumbprints made for the region's registration."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from airflow_provider_rh.core.credentials import load_credentials
from airflow_provider_rh.exceptions import CertificateError
from airflow_provider_rh.registration import (
    certificate_signing_request,
    connection_for,
    new_private_key,
    self_signed_certificate,
    thumbprints,
)

NAME = "minklient.mindoman.se"


@pytest.fixture(scope="module")
def plain_key() -> str:
    return new_private_key(key_size=2048)


def test_a_passphrase_encrypts_the_key():
    key = new_private_key("a long enough passphrase", key_size=2048)
    assert "BEGIN ENCRYPTED PRIVATE KEY" in key
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(key.encode(), password=None)
    assert serialization.load_pem_private_key(key.encode(), password=b"a long enough passphrase")


def test_the_certificate_belongs_to_the_key_and_the_hook_accepts_the_pair(plain_key: str):
    now = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    cert = self_signed_certificate(plain_key, NAME, organization="Mindoman AB", days=365, now=now)
    parsed = x509.load_pem_x509_certificate(cert.encode())
    assert parsed.subject.rfc4514_string() == f"O=Mindoman AB,CN={NAME}"
    assert parsed.not_valid_after_utc == now + dt.timedelta(days=365)
    credentials = load_credentials(certificate=cert, private_key=plain_key, now=now + dt.timedelta(days=1))
    assert credentials.x5t == thumbprints(cert).x5t


def test_thumbprints_are_the_certificate_der_hashes(plain_key: str):
    cert = self_signed_certificate(plain_key, NAME)
    der = x509.load_pem_x509_certificate(cert.encode()).public_bytes(serialization.Encoding.DER)
    prints = thumbprints(cert)
    sha1 = hashlib.sha1(der).digest()
    assert prints.sha1_hex == sha1.hex().upper()
    assert prints.x5t == base64.urlsafe_b64encode(sha1).rstrip(b"=").decode()
    assert "=" not in prints.x5t
    assert "+" not in prints.x5t
    assert prints.sha256_hex == hashlib.sha256(der).hexdigest().upper()
    assert any(prints.x5t in line for line in prints.lines())


def test_the_csr_is_signed_by_the_key(plain_key: str):
    csr = x509.load_pem_x509_csr(certificate_signing_request(plain_key, NAME).encode())
    assert csr.is_signature_valid
    key = serialization.load_pem_private_key(plain_key.encode(), password=None)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert csr.public_key().public_bytes(serialization.Encoding.DER, spki) == key.public_key().public_bytes(
        serialization.Encoding.DER, spki
    )


def test_a_wrong_passphrase_is_named():
    key = new_private_key("the right passphrase", key_size=2048)
    with pytest.raises(CertificateError, match="passphrase"):
        self_signed_certificate(key, NAME, passphrase="a wrong passphrase")
    with pytest.raises(CertificateError, match="Not a certificate"):
        thumbprints("not a certificate")


def test_the_connection_fills_the_port_for_airflows_test_button():
    https = connection_for(
        client_id="c", auth_url="https://adfs.example.se/adfs/oauth2/token/",
        host="https://api.example.se/hsainfo/v1", certificate_path="/keys/client.pem",
    )  # fmt: skip
    assert https["port"] == 443
    assert https["extra"] == {
        "auth_url": "https://adfs.example.se/adfs/oauth2/token/",
        "certificate_path": "/keys/client.pem",
    }
    assert "<subscriber key" in https["password"]
    local = connection_for(
        client_id="c", auth_url="http://127.0.0.1:8765/adfs/oauth2/token/",
        host="http://127.0.0.1:8765/hsainfo/v1", certificate_path="/k.pem", passphrase="p", scopes="a b",
    )  # fmt: skip
    assert local["port"] == 8765
    assert local["extra"]["private_key_passphrase"] == "p"
    assert local["extra"]["scopes"] == "a b"
