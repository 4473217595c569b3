"""Throwaway test certificates, made fresh by the tests themselves (never committed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class TestPki:
    """A throwaway CA and a server certificate it signed for 127.0.0.1 / localhost."""

    __test__ = False

    ca: TestCert
    server: TestCert

    def write(self, folder: Path) -> tuple[Path, Path, Path]:
        """``(ca.pem, server-cert.pem, server-key.pem)`` written into ``folder``."""
        ca_path, cert_path, key_path = (
            folder / "ca.pem",
            folder / "server-cert.pem",
            folder / "server-key.pem",
        )
        ca_path.write_text(self.ca.cert_pem)
        cert_path.write_text(self.server.cert_pem)
        key_path.write_text(self.server.key_pem())
        return ca_path, cert_path, key_path


def make_server_pki(common_name: str = "Test CA") -> TestPki:
    """A CA (self-signed, ``BasicConstraints(ca=True)``) and a loopback server certificate."""
    import ipaddress

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return TestPki(ca=TestCert(key=ca_key, cert=ca_cert), server=TestCert(key=key, cert=cert))
