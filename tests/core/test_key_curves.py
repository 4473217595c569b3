"""A key the signer cannot use is refused by name when it is loaded, not by a library's KeyError."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from airflow_provider_rh.core.assertion import build_client_assertion
from airflow_provider_rh.core.credentials import load_credentials
from airflow_provider_rh.exceptions import CertificateError


def _pem_pair(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> tuple[str, str]:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "curve.example.se")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=400))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


@pytest.mark.parametrize("curve", [ec.SECP256K1(), ec.BrainpoolP256R1(), ec.SECP224R1()])
def test_an_ec_key_on_an_unsupported_curve_is_refused_naming_the_curve_and_what_works(curve):
    certificate, private_key = _pem_pair(ec.generate_private_key(curve))
    with pytest.raises(CertificateError) as info:
        load_credentials(certificate=certificate, private_key=private_key)
    message = str(info.value)
    assert curve.name in message
    assert "Private key (PEM or base64 PKCS#12) (extra.private_key)" in message
    assert "RSA (2048 bits or more" in message
    assert "P-256, P-384, P-521" in message
    assert info.value.field == "private_key"


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()])
def test_the_supported_curves_load(curve):
    certificate, private_key = _pem_pair(ec.generate_private_key(curve))
    credentials = load_credentials(certificate=certificate, private_key=private_key)
    assertion = build_client_assertion(credentials, client_id="c", audience="https://adfs.example.se/t")
    assert assertion.count(".") == 2


def test_a_short_rsa_key_is_refused_with_the_minimum():
    certificate, private_key = _pem_pair(rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505
    with pytest.raises(CertificateError, match="has 1024 bits, fewer than the 2048") as info:
        load_credentials(certificate=certificate, private_key=private_key)
    assert info.value.field == "private_key"
