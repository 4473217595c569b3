"""Keys, certificates, CSRs and thumbprints as the region's registration wants them: pure functions."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from airflow_provider_rh.exceptions import CertificateError

#: AD FS signs and checks client assertions with RS256, so the key is RSA; 3072 bits is today's
#: advice for keys that live years (NIST SP 800-57).
KEY_SIZE = 3072
DEFAULT_DAYS = 730


def new_private_key(passphrase: str | None = None, *, key_size: int = KEY_SIZE) -> str:
    """A fresh RSA key as PKCS#8 PEM, encrypted with ``passphrase`` when one is given."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    return pem.decode()


def _load_key(private_key_pem: str, passphrase: str | None) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(
            private_key_pem.encode(), password=passphrase.encode() if passphrase else None
        )
    except (TypeError, ValueError) as exc:
        raise CertificateError(
            "Cannot read the private key: it is not PEM, or the passphrase is missing or wrong.",
            field="private_key",
        ) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError("AD FS needs an RSA key (RS256).", field="private_key")
    return key


def _name(common_name: str, organization: str | None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def self_signed_certificate(
    private_key_pem: str,
    common_name: str,
    *,
    passphrase: str | None = None,
    organization: str | None = None,
    days: int = DEFAULT_DAYS,
    now: dt.datetime | None = None,
) -> str:
    """A self-signed certificate for the key: its public part is what the registration asks for."""
    key = _load_key(private_key_pem, passphrase)
    now = now or dt.datetime.now(dt.timezone.utc)
    name = _name(common_name, organization)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def certificate_signing_request(
    private_key_pem: str, common_name: str, *, passphrase: str | None = None, organization: str | None = None
) -> str:
    """A PKCS#10 request, for organisations whose own CA issues the client certificate."""
    key = _load_key(private_key_pem, passphrase)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name(common_name, organization))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


@dataclass(frozen=True)
class Thumbprints:
    """The ways a certificate is named: AD FS's ``x5t`` and the hex forms portals show."""

    x5t: str
    sha1_hex: str
    x5t_s256: str
    sha256_hex: str
    subject: str
    not_valid_after: dt.datetime

    def lines(self) -> list[str]:
        return [
            f"subject               {self.subject}",
            f"valid until           {self.not_valid_after:%Y-%m-%d %H:%M} UTC",
            f"x5t (SHA-1 base64url) {self.x5t}",
            f"SHA-1 thumbprint      {self.sha1_hex}",
            f"x5t#S256 (base64url)  {self.x5t_s256}",
            f"SHA-256 thumbprint    {self.sha256_hex}",
        ]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprints(certificate: str | bytes) -> Thumbprints:
    """Thumbprints of a PEM or DER certificate (public information, safe to mail to the region)."""
    data = certificate.encode() if isinstance(certificate, str) else certificate
    try:
        if b"-----BEGIN" in data:
            cert = x509.load_pem_x509_certificate(data)
        else:
            cert = x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise CertificateError(
            "Not a certificate: expected PEM (-----BEGIN CERTIFICATE-----) or DER (.cer, .der).",
            field="certificate",
        ) from exc
    der = cert.public_bytes(serialization.Encoding.DER)
    # SHA-1 is what x5t is defined as (RFC 7515 4.1.7); it names the certificate, it protects nothing.
    sha1 = hashlib.sha1(der, usedforsecurity=False).digest()
    sha256 = hashlib.sha256(der).digest()
    return Thumbprints(
        x5t=_b64url(sha1),
        sha1_hex=sha1.hex().upper(),
        x5t_s256=_b64url(sha256),
        sha256_hex=sha256.hex().upper(),
        subject=cert.subject.rfc4514_string(),
        not_valid_after=cert.not_valid_after_utc,
    )


def connection_for(
    *,
    client_id: str,
    auth_url: str,
    host: str,
    certificate_path: str,
    resource: str | None = None,
    scopes: str | None = None,
    subscriber_key: str | None = None,
    passphrase: str | None = None,
    test_path: str | None = None,
) -> dict[str, Any]:
    """The Airflow connection (JSON form) for a registered client whose key stays in a file."""
    extra: dict[str, Any] = {"auth_url": auth_url, "certificate_path": certificate_path}
    if passphrase:
        extra["private_key_passphrase"] = passphrase
    if resource:
        extra["resource"] = resource
    if scopes:
        extra["scopes"] = scopes
    if test_path:
        extra["test_path"] = test_path
    parts = urlsplit(host)
    return {
        "conn_type": "regionhalland",
        "host": host,
        # Airflow 3.3.1-3.3.2's Test button needs a port (docs/troubleshooting.md).
        "port": parts.port or {"https": 443, "http": 80}.get(parts.scheme),
        "login": client_id,
        "password": subscriber_key or "<subscriber key from the developer portal>",
        "extra": extra,
    }
