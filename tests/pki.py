"""Throwaway test certificates, made fresh by the tests themselves (never committed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class TestCert:
    """A certificate and its key, in the forms users paste into a connection."""

    __test__ = False  # not a pytest test class

    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def public_pem(self) -> str:
        """The public key as SubjectPublicKeyInfo PEM, the form every joserfc >= 1.0 imports."""
        return (
            self.key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def key_pem(self, passphrase: str | None = None) -> str:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase.encode())
            if passphrase
            else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        ).decode()

    def pkcs12(self, passphrase: str | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase.encode())
            if passphrase
            else serialization.NoEncryption()
        )
        return pkcs12.serialize_key_and_certificates(b"client", self.key, self.cert, None, encryption)

    @property
    def public_jwk_x5c(self) -> str:
        """The certificate's DER, base64 (standard alphabet, padded) as JWK ``x5c`` wants it."""
        import base64

        return base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()


def make_cert(
    common_name: str = "myclient.example.se",
    *,
    days_valid: int = 365,
    not_before_days_ago: int = 1,
    key_type: str = "rsa",
) -> TestCert:
    """A self-signed client certificate; ``days_valid`` may be negative for an expired one."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if key_type == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif key_type == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValueError(key_type)
    now = dt.datetime.now(dt.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    not_before = now - dt.timedelta(days=not_before_days_ago)
    not_after = now + dt.timedelta(days=days_valid)
    if not_after <= not_before:
        not_before = not_after - dt.timedelta(days=30)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return TestCert(key=key, cert=cert)
