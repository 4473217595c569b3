"""Client certificates the way a registered AD FS client has them, and their ``x5t`` thumbprints."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def generate_private_key_pem() -> str:
    """A fresh RSA 2048 key as unencrypted PKCS#8 PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def self_signed_certificate_pem(private_key_pem: str, common_name: str, *, days_valid: int = 3650) -> str:
    """A self-signed certificate for ``private_key_pem``, as users upload to the region's portal."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the sandbox only makes RSA client certificates")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days_valid))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def load_certificate(certificate_pem: str) -> x509.Certificate:
    """Parse a PEM certificate."""
    return x509.load_pem_x509_certificate(certificate_pem.encode())


def x5t(certificate: x509.Certificate) -> str:
    """RFC 7515 ``x5t``: base64url, unpadded SHA-1 of the certificate's DER (AD FS matches on it)."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    # SHA-1 is what the x5t header is defined as; it identifies, it does not protect.
    digest = hashlib.sha1(der, usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
