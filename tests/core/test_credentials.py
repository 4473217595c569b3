"""Loading the client certificate and key, and every way it can be wrong."""

from __future__ import annotations

import base64
import hashlib
import warnings

import pytest
from cryptography.hazmat.primitives import serialization

from airflow_provider_rh.core.credentials import CertificateExpiryWarning, load_credentials
from airflow_provider_rh.exceptions import CertificateError, ConfigurationError
from tests.pki import make_cert

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="module")
def cert():
    return make_cert()


def test_plain_pem_pair_loads_and_x5t_is_sha1_of_der(cert):
    creds = load_credentials(certificate=cert.cert_pem, private_key=cert.key_pem())
    der = cert.cert.public_bytes(serialization.Encoding.DER)
    expected = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()
    assert creds.x5t == expected
    assert creds.default_algorithm == "RS256"


def test_encrypted_pem_needs_the_passphrase(cert):
    creds = load_credentials(
        certificate=cert.cert_pem, private_key=cert.key_pem(PASSPHRASE), passphrase=PASSPHRASE
    )
    assert creds.certificate == cert.cert


def test_wrong_passphrase_names_the_field_and_not_the_secret(cert):
    with pytest.raises(CertificateError) as info:
        load_credentials(
            certificate=cert.cert_pem, private_key=cert.key_pem(PASSPHRASE), passphrase="nope-wrong"
        )
    assert info.value.field == "private_key_passphrase"
    assert "wrong" in str(info.value)
    assert "nope-wrong" not in str(info.value)
    assert PASSPHRASE not in str(info.value)


def test_missing_passphrase_for_encrypted_key(cert):
    with pytest.raises(CertificateError, match="encrypted") as info:
        load_credentials(certificate=cert.cert_pem, private_key=cert.key_pem(PASSPHRASE))
    assert info.value.field == "private_key_passphrase"


def test_key_that_does_not_match_the_certificate_is_refused(cert):
    other = make_cert()
    with pytest.raises(CertificateError, match="does not belong") as info:
        load_credentials(certificate=cert.cert_pem, private_key=other.key_pem())
    assert info.value.field == "private_key"
    assert "PRIVATE KEY" not in str(info.value)


def test_expired_certificate_is_refused_with_its_end_date():
    old = make_cert(days_valid=-2)
    with pytest.raises(CertificateError, match="expired on") as info:
        load_credentials(certificate=old.cert_pem, private_key=old.key_pem())
    assert f"{old.cert.not_valid_after_utc:%Y-%m-%d}" in str(info.value)


def test_certificate_close_to_expiry_warns():
    soon = make_cert(days_valid=10)
    with pytest.warns(CertificateExpiryWarning, match="expires in"):
        load_credentials(certificate=soon.cert_pem, private_key=soon.key_pem())


def test_certificate_with_time_left_does_not_warn(cert):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_credentials(certificate=cert.cert_pem, private_key=cert.key_pem())


def test_pkcs12_as_base64_in_private_key_carries_the_certificate(cert):
    bundle = base64.b64encode(cert.pkcs12(PASSPHRASE)).decode()
    creds = load_credentials(private_key=bundle, passphrase=PASSPHRASE)
    assert creds.certificate == cert.cert


def test_pkcs12_with_wrong_passphrase(cert):
    bundle = base64.b64encode(cert.pkcs12(PASSPHRASE)).decode()
    with pytest.raises(CertificateError, match="PKCS#12") as info:
        load_credentials(private_key=bundle, passphrase="bad")
    assert info.value.field == "private_key_passphrase"


def test_certificate_path_pem_bundle_and_p12(tmp_path, cert):
    pem = tmp_path / "client.pem"
    pem.write_text(cert.cert_pem + cert.key_pem(PASSPHRASE))
    assert load_credentials(certificate_path=pem, passphrase=PASSPHRASE).certificate == cert.cert
    p12 = tmp_path / "client.pfx"
    p12.write_bytes(cert.pkcs12(PASSPHRASE))
    assert load_credentials(certificate_path=str(p12), passphrase=PASSPHRASE).certificate == cert.cert


@pytest.mark.parametrize("form", ["pem", "pem-key-first", "encrypted-pem"])
def test_certificate_path_whose_key_does_not_match_names_the_file_field(tmp_path, cert, form):
    """A file holding a certificate and another pair's key is reported as a mismatch inside the
    file field, not of the inline key and certificate fields, which were never set (issue 15.9)."""
    other = make_cert()
    passphrase = PASSPHRASE if form == "encrypted-pem" else None
    parts = [cert.cert_pem, other.key_pem(passphrase)]
    bundle = tmp_path / "client.pem"
    bundle.write_text("".join(reversed(parts) if form == "pem-key-first" else parts))
    with pytest.raises(CertificateError, match="does not belong") as info:
        load_credentials(certificate_path=bundle, passphrase=passphrase)
    message = str(info.value)
    assert info.value.field == "certificate_path"
    assert "Certificate file path (extra.certificate_path)" in message
    assert "extra.private_key" not in message
    assert "extra.certificate)" not in message
    assert f"subject {cert.cert.subject.rfc4514_string()}" in message  # which certificate
    assert "PRIVATE KEY" not in message
    assert PASSPHRASE not in message


def test_certificate_path_that_does_not_exist(tmp_path):
    with pytest.raises(CertificateError, match=r"Cannot read Certificate file path \(extra\.") as info:
        load_credentials(certificate_path=tmp_path / "missing.pem")
    assert info.value.field == "certificate_path"


def test_garbage_key_and_missing_key(cert):
    with pytest.raises(CertificateError, match="neither a PEM key"):
        load_credentials(certificate=cert.cert_pem, private_key="this is not a key!")
    with pytest.raises(CertificateError, match="No private key configured"):
        load_credentials(certificate=cert.cert_pem)


def test_missing_certificate_for_pem_key(cert):
    with pytest.raises(CertificateError, match=r"Certificate \(PEM\) \(extra.certificate\) is empty"):
        load_credentials(private_key=cert.key_pem())


def test_both_inline_and_path_is_ambiguous(tmp_path, cert):
    with pytest.raises(ConfigurationError, match="keep either the file path or the pasted PEM"):
        load_credentials(certificate_path=tmp_path / "x.pem", private_key=cert.key_pem())


def test_ec_key_signs_with_es256():
    ec = make_cert(key_type="ec")
    creds = load_credentials(certificate=ec.cert_pem, private_key=ec.key_pem())
    assert creds.default_algorithm == "ES256"


def test_repr_redacts_the_key(cert):
    creds = load_credentials(certificate=cert.cert_pem, private_key=cert.key_pem())
    assert "redacted" in repr(creds)
    assert "PRIVATE" not in repr(creds)
