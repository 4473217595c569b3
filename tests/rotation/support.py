"""Shared by the rotation tests: every secret form of a test certificate's key, to search for."""

from __future__ import annotations

from tests.pki import TestCert


def secrets_of(*certs: TestCert, passphrase: str | None = None) -> list[str]:
    """Each key as PEM, its one-line body, every body line, and the passphrase."""
    found: list[str] = [passphrase] if passphrase else []
    for cert in certs:
        pem = cert.key_pem()
        body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
        found += [pem, "".join(body), *body]
        if passphrase:
            encrypted = cert.key_pem(passphrase)
            found += [line for line in encrypted.splitlines() if line and not line.startswith("-----")]
    return found
