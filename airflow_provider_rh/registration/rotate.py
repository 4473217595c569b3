"""``rh-register rotate`` and ``rh-register status``: a certificate rotation without a failed run.

    rh-register rotate --current minklient.mindoman.se/minklient.mindoman.se.pem [--encrypt] [--csr]
    rh-register status --conn-id hsainfo_prod

``rotate`` writes the next key and certificate beside the current ones and says what to send
to the region and what to put into the connection (its next-certificate fields, at once: runs
keep the current certificate until AD FS accepts the next). ``status`` states the days left on
each certificate of a connection and which of them AD FS accepts. See docs/rotation.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.oauth import TokenProvider
from airflow_provider_rh.core.rotation import acceptance, certificate_lines, load_signers
from airflow_provider_rh.exceptions import ConfigurationError
from airflow_provider_rh.registration.material import (
    DEFAULT_DAYS,
    certificate_signing_request,
    new_private_key,
    self_signed_certificate,
    thumbprints,
)

#: Largest certificate file read (a PEM bundle is a few KB).
MAX_FILE_BYTES = 1024 * 1024
MIN_PASSPHRASE_CHARS = 12


def add_parsers(sub: Any) -> None:
    """Add ``rotate`` and ``status`` to ``rh-register``'s subcommands."""
    rotate = sub.add_parser(
        "rotate", help="the next key and certificate beside the current ones, for a rotation"
    )
    rotate.add_argument(
        "--current", required=True, help="the current certificate file (the .pem or .crt.pem from 'new')"
    )
    rotate.add_argument("--days", type=int, default=DEFAULT_DAYS, help="validity of the next one in days")
    rotate.add_argument("--organization", help="O= of the next certificate (default: the current one's)")
    rotate.add_argument("--encrypt", action="store_true", help="encrypt the key; asks for a passphrase")
    rotate.add_argument("--passphrase-env", metavar="VAR", help="encrypt with the passphrase in $VAR")
    rotate.add_argument("--csr", action="store_true", help="also write a certificate signing request")
    rotate.add_argument("--force", action="store_true", help="replace existing next-certificate files")
    rotate.set_defaults(run=cmd_rotate)

    status = sub.add_parser(
        "status", help="days left on each certificate of a connection, and which one AD FS accepts"
    )
    status.add_argument("--conn-id", default="regionhalland_default", help="Airflow connection id")
    status.add_argument(
        "--connection-file",
        help="read the connection from this JSON file (e.g. the sandbox's connection.json) instead",
    )
    status.set_defaults(run=cmd_status)


def _fail(message: str) -> ConfigurationError:
    return ConfigurationError(message)


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _fail(f"Cannot read {path}: {exc.strerror}.") from None
    if len(data) > MAX_FILE_BYTES:
        raise _fail(f"{path} is larger than {MAX_FILE_BYTES} bytes; give the certificate file from 'new'.")
    return data


def _current_certificate(path: Path) -> x509.Certificate:
    data = _read(path)
    start = data.find(b"-----BEGIN CERTIFICATE-----")
    end = data.find(b"-----END CERTIFICATE-----", start)
    if start == -1 or end == -1:
        raise _fail(
            f"{path} holds no PEM certificate: give the .pem or .crt.pem file 'rh-register new' wrote."
        )
    try:
        return x509.load_pem_x509_certificate(data[start : end + len(b"-----END CERTIFICATE-----")])
    except ValueError:
        raise _fail(f"The certificate in {path} cannot be parsed.") from None


def _attribute(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    values = cert.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def _passphrase(args: argparse.Namespace) -> str | None:
    if args.passphrase_env:
        value = os.environ.get(args.passphrase_env)
        if not value:
            raise _fail(
                f"The environment variable {args.passphrase_env} (the key passphrase) is empty or not set."
            )
        return value
    if not args.encrypt:
        return None
    first = getpass.getpass("Passphrase for the next private key: ")
    if len(first) < MIN_PASSPHRASE_CHARS:
        raise _fail(f"Use a passphrase of at least {MIN_PASSPHRASE_CHARS} characters.")
    if getpass.getpass("Same passphrase again: ") != first:
        raise _fail("The two passphrases differ; nothing was written.")
    return first


def _write(path: Path, text: str, *, private: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    if private:
        os.chmod(path, 0o600)


def cmd_rotate(args: argparse.Namespace) -> int:
    current_path = Path(args.current).expanduser().resolve()
    current = _current_certificate(current_path)
    name = _attribute(current, NameOID.COMMON_NAME)
    if not name or "/" in name or name.startswith("."):
        raise _fail(f"The certificate in {current_path} has no usable common name (CN) to name the files by.")
    organization = args.organization or _attribute(current, NameOID.ORGANIZATION_NAME)
    folder = current_path.parent
    targets = {
        "key": folder / f"{name}.next.key.pem",
        "certificate": folder / f"{name}.next.crt.pem",
        "bundle": folder / f"{name}.next.pem",
        "csr": folder / f"{name}.next.csr.pem",
    }
    if not args.force:
        for path in targets.values():
            if path.exists():
                raise _fail(f"{path} exists; nothing was written (use --force to replace it).")
    passphrase = _passphrase(args)
    key = new_private_key(passphrase)
    cert = self_signed_certificate(
        key, name, passphrase=passphrase, organization=organization, days=args.days
    )
    _write(targets["key"], key, private=True)
    _write(targets["certificate"], cert, private=False)
    _write(targets["bundle"], cert + key, private=True)
    if args.csr:
        csr = certificate_signing_request(key, name, passphrase=passphrase, organization=organization)
        _write(targets["csr"], csr, private=False)
    now = dt.datetime.now(dt.timezone.utc)
    ends = current.not_valid_after_utc
    days_left = (ends - now).days
    extra: dict[str, str] = {"next_certificate_path": str(targets["bundle"])}
    print(f"Wrote the next key and certificate to {folder}/:")
    print(f"  {targets['key'].name:<40} private key{' (encrypted)' if passphrase else ''}: never send it")
    print(f"  {targets['certificate'].name:<40} certificate (public part): send this to the region")
    print(f"  {targets['bundle'].name:<40} certificate + key, for Next certificate file path")
    if args.csr:
        print(f"  {targets['csr'].name:<40} signing request, if your own CA issues the certificate")
    print()
    print(f"The current certificate ({current.subject.rfc4514_string()}) is valid until {ends:%Y-%m-%d}")
    print(f"({days_left} days left).")
    print()
    print("1. Send to the region: register this ADDITIONAL certificate for your client id, beside the")
    print(f"   current one, which must stay registered until {ends:%Y-%m-%d}.")
    print(f"   Attach {targets['certificate'].name}; if asked:")
    print(*(f"     {line}" for line in thumbprints(cert).lines()), sep="\n")
    print()
    print("2. Now, without waiting for the region, add to the connection's extra (on every worker the")
    print("   file must be readable at that path):")
    print(f"     {json.dumps(extra)[1:-1]}")
    if passphrase:
        print('     "next_private_key_passphrase": "<the passphrase>"  (or keep it in a secrets backend)')
    print("   Runs keep signing with the current certificate and switch to the next one by themselves")
    print("   as soon as AD FS accepts it.")
    print()
    print("3. Check which certificate AD FS accepts: rh-register status --conn-id <your connection>")
    print("   (or the connection's Test button).")
    print()
    print("4. Once AD FS accepts the next one (at the latest when the current one has expired): set")
    print(f"   Certificate file path to {targets['bundle']} and clear the next-certificate fields.")
    return 0


def _config_from_file(path: Path) -> ClientConfig:
    try:
        connection = json.loads(_read(path))
    except (ValueError, RecursionError):
        raise _fail(f"{path} is not a connection in JSON form.") from None
    if not isinstance(connection, dict):
        raise _fail(f"{path} is not a connection in JSON form.")
    return ClientConfig.from_connection_fields(
        host=connection.get("host"),
        login=connection.get("login"),
        password=connection.get("password"),
        extra=connection.get("extra"),
        port=connection.get("port"),
    )


def _config_from_airflow(conn_id: str) -> ClientConfig:
    from airflow_provider_rh.hooks.regionhalland import RegionHallandHook

    return RegionHallandHook(conn_id).config


def cmd_status(args: argparse.Namespace) -> int:
    if args.connection_file:
        config = _config_from_file(Path(args.connection_file))
    else:
        config = _config_from_airflow(args.conn_id)
    tokens = TokenProvider(config)
    try:
        now = tokens.rotation.now()
        signers = load_signers(config, now=now)
        verdicts = acceptance(signers, lambda signer: tokens.fetch_signed_by(signer.credentials), now=now)
    finally:
        tokens.close()
    for line, signer in zip(certificate_lines(signers, now=now), signers.all, strict=False):
        print(f"{line}; AD FS: {verdicts[signer.role]}")
    if signers.next_error is not None:
        print(f"next certificate cannot be used: {signers.next_error}")
    return 0 if "accepted" in verdicts.values() else 1
