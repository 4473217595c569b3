"""The sandbox's persistent identity: made on first start, reused after, so a connection stays valid.

Files in the state folder (secrets mode 0600, folder 0700)::

    client.json        client id (GUID), subscriber key, certificate common name
    client-cert.pem    the client's self-signed certificate (what the region would register)
    client-key.pem     its private key, unencrypted PKCS#8
    signing-key.pem    the token-signing key of the sandbox's AD FS
    connection.json    the ready Airflow connection, rewritten on every start
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_rh.sandbox import pki

CLIENT_COMMON_NAME = "sandboxclient.example.se"


@dataclass(frozen=True, repr=False)
class Identity:
    """The registered client, its subscription and the server's signing key."""

    client_id: str
    subscription_key: str
    certificate_pem: str
    private_key_pem: str
    signing_key_pem: str
    created: bool
    """True when this start made the identity, False when it was reused."""

    def __repr__(self) -> str:
        return f"Identity(client_id={self.client_id!r}, created={self.created}, secrets=<redacted>)"


def load_or_create(state_dir: Path, *, common_name: str = CLIENT_COMMON_NAME) -> Identity:
    """Read the identity from ``state_dir``, creating whatever part is missing."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    client_file = state_dir / "client.json"
    created = False
    if client_file.exists():
        client = json.loads(client_file.read_text())
    else:
        client = {
            "client_id": str(uuid.uuid4()),
            "subscription_key": secrets.token_hex(16),
            "common_name": common_name,
        }
        write_private(client_file, json.dumps(client, indent=2) + "\n")
        created = True
    key_file, cert_file = state_dir / "client-key.pem", state_dir / "client-cert.pem"
    if not key_file.exists():
        write_private(key_file, pki.generate_private_key_pem())
        cert_file.unlink(missing_ok=True)
        created = True
    private_key_pem = key_file.read_text()
    if not cert_file.exists():
        cert_pem = pki.self_signed_certificate_pem(private_key_pem, str(client["common_name"]))
        write_private(cert_file, cert_pem, mode=0o644)
        created = True
    signing_file = state_dir / "signing-key.pem"
    if not signing_file.exists():
        write_private(signing_file, pki.generate_private_key_pem())
        created = True
    return Identity(
        client_id=str(client["client_id"]),
        subscription_key=str(client["subscription_key"]),
        certificate_pem=cert_file.read_text(),
        private_key_pem=private_key_pem,
        signing_key_pem=signing_file.read_text(),
        created=created,
    )


def write_connection(state_dir: Path, connection: dict[str, Any]) -> Path:
    """Write ``connection.json`` (mode 0600: it holds the private key and subscriber key)."""
    path = state_dir / "connection.json"
    write_private(path, json.dumps(connection, indent=2) + "\n")
    return path


def write_private(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Write ``text`` atomically, with ``mode`` set before any content lands on disk."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
