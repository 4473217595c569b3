"""What the region's client registration asks for, made on your machine: ``rh-register``.

A private key (encrypted if you give a passphrase), a self-signed certificate or a certificate
signing request, the thumbprints the region may ask for, and, once the client id arrives, a
ready Airflow connection. See docs/getting-access.md.
"""

from __future__ import annotations

from airflow_provider_rh.registration.material import (
    Thumbprints,
    certificate_signing_request,
    connection_for,
    new_private_key,
    self_signed_certificate,
    thumbprints,
)

__all__ = [
    "Thumbprints",
    "certificate_signing_request",
    "connection_for",
    "new_private_key",
    "self_signed_certificate",
    "thumbprints",
]
