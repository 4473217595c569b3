"""Load the client certificate and private key that sign client assertions.

Accepts what users actually get from their certificate authorities: a PEM certificate with a
PEM key (plain or encrypted), a PKCS#12/PFX bundle (as bytes or base64 text), or one file that
holds either. The pair is checked before any network call so a mismatch or an expired
certificate fails with a message that says which, not as an opaque ``invalid_client`` later.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from airflow_provider_rh.core.fields import describe
from airflow_provider_rh.exceptions import CertificateError

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

#: Largest certificate/key file read (a PEM chain or PKCS#12 is a few KB).
MAX_CREDENTIAL_FILE_BYTES = 1024 * 1024

#: Warn when fewer days than this remain on the certificate.
EXPIRY_WARNING_DAYS = 30


class CertificateExpiryWarning(UserWarning):
    """The client certificate expires soon; the region needs the new public part in time."""


@dataclass(frozen=True)
class SigningCredentials:
    """A private key with its certificate, and the references a JWS header can carry."""

    key: SigningKey = field(repr=False)
    certificate: x509.Certificate

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def x5t(self) -> str:
        """base64url, unpadded SHA-1 thumbprint of the certificate DER (what AD FS matches)."""
        return _b64url(hashlib.sha1(self.certificate_der, usedforsecurity=False).digest())

    @property
    def x5t_s256(self) -> str:
        """base64url, unpadded SHA-256 thumbprint of the certificate DER."""
        return _b64url(hashlib.sha256(self.certificate_der).digest())

    @property
    def not_valid_after(self) -> dt.datetime:
        return self.certificate.not_valid_after_utc

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @property
    def default_algorithm(self) -> str:
        """RS256 for RSA keys (AD FS's only choice); ES256/384/512 by curve for EC keys."""
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return {256: "ES256", 384: "ES384", 521: "ES512"}.get(self.key.curve.key_size, "ES256")
        return "RS256"

    def __repr__(self) -> str:
        return f"SigningCredentials(subject={self.subject!r}, x5t={self.x5t!r}, key=<redacted>)"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def load_credentials(
    *,
    certificate: str | bytes | None = None,
    private_key: str | bytes | None = None,
    passphrase: str | None = None,
    certificate_path: str | Path | None = None,
    now: dt.datetime | None = None,
    field_names: Mapping[str, str] | None = None,
    warn_within_days: int | None = EXPIRY_WARNING_DAYS,
    check_dates: bool = True,
) -> SigningCredentials:
    """Load and check a key + certificate pair from inline PEM/PKCS#12 or from a file.

    ``private_key`` may be a PEM key, or base64 text of a PKCS#12 bundle (then ``certificate``
    may be empty). ``certificate_path`` is used when neither inline value is given.
    ``field_names`` maps the usual field keys to the ones these values came from (a rotation's
    ``next_certificate``...), so a message names the field the user actually set;
    ``check_dates=False`` leaves expiry to the caller (a rotation outlives its current certificate).
    """
    if field_names:
        try:
            return load_credentials(
                certificate=certificate,
                private_key=private_key,
                passphrase=passphrase,
                certificate_path=certificate_path,
                now=now,
                warn_within_days=warn_within_days,
                check_dates=check_dates,
            )
        except CertificateError as exc:
            raise renamed(exc, field_names) from None
    if certificate_path and (certificate or private_key):
        raise CertificateError(
            f"Both {describe('certificate_path')} and {describe('certificate')} / "
            f"{describe('private_key')} are set: keep either the file path or the pasted PEM.",
            field="certificate_path",
        )
    if certificate_path:
        key, cert = _load_from_file(Path(certificate_path), passphrase)
    elif private_key:
        key, cert = _load_inline(certificate, private_key, passphrase)
    else:
        raise CertificateError(
            f"No private key configured: set {describe('private_key')} (PEM, or base64 of a "
            f".pfx/.p12) with {describe('certificate')}, or {describe('certificate_path')}.",
            field="private_key",
        )
    credentials = SigningCredentials(key=key, certificate=cert)
    # One source holds both parts when it is a file, or a bundle pasted into the key field.
    source = "certificate_path" if certificate_path else (None if certificate else "private_key")
    check_pair(credentials, source=source)
    if check_dates:
        check_validity(credentials, now=now, warn_within_days=warn_within_days)
    return credentials


def renamed(error: CertificateError, field_names: Mapping[str, str]) -> CertificateError:
    """``error`` naming the fields in ``field_names`` (usual key -> key actually used) instead."""
    message = str(error)
    for usual, used in sorted(field_names.items(), key=lambda item: -len(describe(item[0]))):
        message = message.replace(describe(usual), describe(used))
    field_name = field_names.get(error.field, error.field) if error.field else None
    return CertificateError(message, field=field_name)


def _load_inline(
    certificate: str | bytes | None, private_key: str | bytes, passphrase: str | None
) -> tuple[SigningKey, x509.Certificate]:
    key_bytes = private_key.encode() if isinstance(private_key, str) else private_key
    if b"-----BEGIN" in key_bytes:
        key = _load_pem_key(key_bytes, passphrase, field="private_key")
        if not certificate:
            # A PEM bundle pasted into the key field may carry the certificate as well.
            if b"-----BEGIN CERTIFICATE" in key_bytes:
                return key, _load_pem_certificate(key_bytes, field="private_key")
            raise CertificateError(
                f"{describe('certificate')} is empty: paste the PEM certificate registered with the "
                f"region (or give a PKCS#12 bundle in {describe('private_key')}).",
                field="certificate",
            )
        cert_bytes = certificate.encode() if isinstance(certificate, str) else certificate
        return key, _load_pem_certificate(cert_bytes, field="certificate")
    try:
        der = base64.b64decode(b"".join(key_bytes.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CertificateError(
            f"{describe('private_key')} is neither a PEM key ('-----BEGIN ... PRIVATE KEY-----') "
            "nor base64 of a PKCS#12 (.pfx/.p12) bundle: paste the key file's whole text.",
            field="private_key",
        ) from exc
    key, pfx_cert = _load_pkcs12(der, passphrase, field="private_key")
    if certificate:
        cert_bytes = certificate.encode() if isinstance(certificate, str) else certificate
        return key, _load_pem_certificate(cert_bytes, field="certificate")
    return key, pfx_cert


def _load_from_file(path: Path, passphrase: str | None) -> tuple[SigningKey, x509.Certificate]:
    try:
        if not path.is_file():
            raise FileNotFoundError(2, "not a regular file (or missing)")
        with path.open("rb") as handle:
            data = handle.read(MAX_CREDENTIAL_FILE_BYTES + 1)
    except OSError as exc:
        raise CertificateError(
            f"Cannot read {describe('certificate_path')} {str(path)!r}: {exc.strerror}. "
            "Check the path exists on every worker and is readable by the Airflow user.",
            field="certificate_path",
        ) from exc
    if len(data) > MAX_CREDENTIAL_FILE_BYTES:
        raise CertificateError(
            f"{describe('certificate_path')} {str(path)!r} is larger than "
            f"{MAX_CREDENTIAL_FILE_BYTES} bytes; a certificate and key file is a few KB. Check the path.",
            field="certificate_path",
        )
    if b"-----BEGIN" in data:
        key = _load_pem_key(data, passphrase, field="certificate_path")
        return key, _load_pem_certificate(data, field="certificate_path")
    return _load_pkcs12(data, passphrase, field="certificate_path")


def _load_pem_key(data: bytes, passphrase: str | None, *, field: str) -> SigningKey:
    start = data.find(b"-----BEGIN")
    blocks = [b for b in _pem_blocks(data[start:]) if b"PRIVATE KEY" in b.split(b"\n", 1)[0]]
    if not blocks:
        raise CertificateError(
            f"{describe(field)} holds no PEM private key block ('-----BEGIN ... PRIVATE KEY-----'): "
            "give the key that belongs to the certificate.",
            field=field,
        )
    encrypted = b"ENCRYPTED" in blocks[0]
    if encrypted and not passphrase:
        raise CertificateError(
            f"The private key in {describe(field)} is encrypted: set {describe('private_key_passphrase')}.",
            field="private_key_passphrase",
        )
    try:
        key = serialization.load_pem_private_key(
            blocks[0], password=passphrase.encode() if (passphrase and encrypted) else None
        )
    except (ValueError, TypeError) as exc:
        if encrypted:
            raise CertificateError(
                f"Cannot decrypt the private key in {describe(field)}: "
                f"{describe('private_key_passphrase')} is wrong (or the key text is damaged). Enter "
                "the passphrase the key was encrypted with.",
                field="private_key_passphrase",
            ) from None
        raise CertificateError(
            f"{describe(field)} is not a readable PEM private key ({type(exc).__name__}): paste "
            "the key file's whole text again, unchanged.",
            field=field,
        ) from None
    return _signing_key(key, field=field)


def _load_pem_certificate(data: bytes, *, field: str) -> x509.Certificate:
    blocks = [b for b in _pem_blocks(data) if b.startswith(b"-----BEGIN CERTIFICATE")]
    if not blocks:
        raise CertificateError(
            f"{describe(field)} holds no PEM certificate ('-----BEGIN CERTIFICATE-----'): paste the "
            "certificate registered with the region.",
            field=field,
        )
    try:
        # The first certificate is the client's own; any others are its chain.
        cert = x509.load_pem_x509_certificate(blocks[0])
    except ValueError:
        raise _damaged(field, "it cannot be parsed") from None
    _check_body(cert, field=field)
    return cert


def _damaged(field: str, why: str) -> CertificateError:
    return CertificateError(
        f"The certificate in {describe(field)} is damaged ({why}): a character was changed or "
        "lost when it was copied. Paste it again from the original file, unchanged.",
        field=field,
    )


def _self_issued(cert: x509.Certificate) -> bool:
    """Issuer and subject are the same name, or were until a few bytes of one were damaged."""
    issuer, subject = cert.issuer.public_bytes(), cert.subject.public_bytes()
    if issuer == subject:
        return True
    return len(issuer) == len(subject) and sum(a != b for a, b in zip(issuer, subject, strict=True)) <= 3


def _check_body(cert: x509.Certificate, *, field: str) -> None:
    """Catch a certificate whose text was altered but still parses.

    Its public key must load, and a self-signed certificate (what clients usually register)
    must verify with its own key: a changed byte anywhere breaks that signature, which tells a
    damaged certificate apart from a key that truly belongs to another certificate.
    """
    try:
        cert.public_key()
    except ValueError:
        raise _damaged(field, "its public key cannot be read") from None
    if not _self_issued(cert):
        return
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError):
        raise _damaged(field, "its signature does not match its content") from None


def _load_pkcs12(data: bytes, passphrase: str | None, *, field: str) -> tuple[SigningKey, x509.Certificate]:
    try:
        key, cert, _chain = pkcs12.load_key_and_certificates(
            data, passphrase.encode() if passphrase else None
        )
    except ValueError:
        raise CertificateError(
            f"Cannot open the PKCS#12 bundle in {describe(field)}: "
            f"{describe('private_key_passphrase')} is wrong or missing, or the data is not a "
            ".pfx/.p12 (or is damaged). Check the passphrase and the file.",
            field="private_key_passphrase",
        ) from None
    if key is None or cert is None:
        raise CertificateError(
            f"The PKCS#12 bundle in {describe(field)} must hold both the private key and the "
            "certificate: export it again with the private key included.",
            field=field,
        )
    return _signing_key(key, field=field), cert


#: EC curves a client assertion can be signed with (JWA ES256/ES384/ES512), by their names in
#: ``cryptography``; AD FS itself takes RSA only.
SUPPORTED_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
#: Smallest RSA key accepted: NIST and AD FS both refuse less.
MIN_RSA_BITS = 2048


def _signing_key(key: object, *, field: str) -> SigningKey:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name not in SUPPORTED_CURVES:
            raise CertificateError(
                f"The EC key in {describe(field)} is on the curve {key.curve.name}, which client "
                f"assertions cannot be signed with: supported are RSA ({MIN_RSA_BITS} bits or more; "
                f"AD FS takes only RSA) and EC {', '.join(SUPPORTED_CURVES.values())}. Create the key "
                "pair again with one of those.",
                field=field,
            )
        return key
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise CertificateError(
                f"The RSA key in {describe(field)} has {key.key_size} bits, fewer than the "
                f"{MIN_RSA_BITS} AD FS and current practice require: create a new key pair with "
                f"RSA {MIN_RSA_BITS} bits or more (rh-register does).",
                field=field,
            )
        return key
    raise CertificateError(
        f"{describe(field)} holds a {type(key).__name__}; client assertions need an RSA or EC "
        "key: create the key pair with RSA (2048 bits or more) or EC P-256.",
        field=field,
    )


def _pem_blocks(data: bytes) -> list[bytes]:
    blocks: list[bytes] = []
    for chunk in data.split(b"-----BEGIN ")[1:]:
        end = chunk.find(b"-----END ")
        if end == -1:
            continue
        tail = chunk.find(b"-----", end + 9)
        blocks.append(b"-----BEGIN " + chunk[: tail + 5 if tail != -1 else len(chunk)] + b"\n")
    return blocks


def check_pair(credentials: SigningCredentials, *, source: str | None = None) -> None:
    """Refuse a key that does not belong to the certificate.

    ``source`` is the one field both came from (a file, or a bundle pasted into the key field);
    ``None`` when the key and the certificate were set in their own fields.
    """
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    key_pub = credentials.key.public_key().public_bytes(serialization.Encoding.DER, fmt)
    cert_pub = credentials.certificate.public_key().public_bytes(serialization.Encoding.DER, fmt)
    if key_pub != cert_pub and source is not None:
        raise CertificateError(
            "The private key does not belong to the certificate "
            f"(subject {credentials.subject}, x5t {credentials.x5t}): the key and the certificate in "
            f"{describe(source)} are from different pairs. Put the certificate registered with the "
            "region and the key generated with it into one file (rh-register new writes it).",
            field=source,
        )
    if key_pub != cert_pub:
        raise CertificateError(
            "The private key does not belong to the certificate "
            f"(subject {credentials.subject}, x5t {credentials.x5t}): {describe('private_key')} and "
            f"{describe('certificate')} are from different pairs. Use the key that was generated "
            "with the certificate registered with the region (if the key is right, paste the "
            "certificate again: its text may be damaged).",
            field="private_key",
        )


def check_validity(
    credentials: SigningCredentials,
    *,
    now: dt.datetime | None = None,
    warn_within_days: int | None = EXPIRY_WARNING_DAYS,
) -> None:
    """Refuse an expired or not-yet-valid certificate; warn when it expires within 30 days
    (``warn_within_days``; ``None`` when the caller reports expiry itself)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    cert = credentials.certificate
    if now > cert.not_valid_after_utc:
        raise CertificateError(
            f"The certificate (subject {credentials.subject}) expired on "
            f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC ({describe('certificate')}). Create a "
            "new one and register its public part with the region.",
            field="certificate",
        )
    if now < cert.not_valid_before_utc:
        raise CertificateError(
            f"The certificate (subject {credentials.subject}) is not valid before "
            f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC ({describe('certificate')}); check "
            "this host's clock.",
            field="certificate",
        )
    days_left = (cert.not_valid_after_utc - now).days
    if warn_within_days is not None and days_left < warn_within_days:
        warnings.warn(
            f"The client certificate (subject {credentials.subject}) expires in {days_left} days, on "
            f"{cert.not_valid_after_utc:%Y-%m-%d}. Register a new one with the region in time.",
            CertificateExpiryWarning,
            stacklevel=3,
        )


def certificate_fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint, hex with colons, for logs (public information)."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()
