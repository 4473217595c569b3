"""``rh-register``: make what the region's client registration asks for, then the connection.

    rh-register new --name minklient.mindoman.se [--encrypt] [--csr]
    rh-register thumbprints minklient.mindoman.se/minklient.mindoman.se.crt.pem
    rh-register connection --certificate-path .../minklient.mindoman.se.pem --client-id GUID \\
        --auth-url https://<adfs-host>/adfs/oauth2/token/ --host https://<gateway>/hsainfo/v1 \\
        --resource hsainfoapi.regionhalland.se --scopes hsainfoapi.read

Secrets never go on the command line (shell history, ``ps``): a passphrase is asked for, or
read from the environment variable you name, and so is the subscriber key.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from airflow_provider_rh.core.credentials import load_credentials
from airflow_provider_rh.exceptions import RegionHallandError
from airflow_provider_rh.registration import rotate
from airflow_provider_rh.registration.material import (
    DEFAULT_DAYS,
    certificate_signing_request,
    connection_for,
    new_private_key,
    self_signed_certificate,
    thumbprints,
)


class UsageError(Exception):
    """A mistake on the command line or in the files named; the message says what to do."""


def _secret_from_env(name: str | None, what: str) -> str | None:
    if name is None:
        return None
    value = os.environ.get(name)
    if not value:
        raise UsageError(f"The environment variable {name} (the {what}) is empty or not set.")
    return value


def _ask_passphrase() -> str:
    first = getpass.getpass("Passphrase for the new private key: ")
    if len(first) < 12:
        raise UsageError("Use a passphrase of at least 12 characters.")
    if getpass.getpass("Same passphrase again: ") != first:
        raise UsageError("The two passphrases differ; nothing was written.")
    return first


def _write(path: Path, text: str, *, private: bool, force: bool) -> None:
    if path.exists() and not force:
        raise UsageError(f"{path} exists; nothing was overwritten (use --force to replace it).")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600 if private else 0o644)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    if private:
        os.chmod(path, 0o600)


def cmd_new(args: argparse.Namespace) -> int:
    name: str = args.name
    out = Path(args.out or name)
    passphrase = _secret_from_env(args.passphrase_env, "key passphrase")
    if passphrase is None and args.encrypt:
        passphrase = _ask_passphrase()
    targets = {
        "key": out / f"{name}.key.pem",
        "certificate": out / f"{name}.crt.pem",
        "bundle": out / f"{name}.pem",
        "csr": out / f"{name}.csr.pem",
    }
    if not args.force:
        for path in targets.values():
            if path.exists():
                raise UsageError(f"{path} exists; nothing was written (use --force to replace it).")
    out.mkdir(parents=True, exist_ok=True)
    key = new_private_key(passphrase)
    cert = self_signed_certificate(
        key, name, passphrase=passphrase, organization=args.organization, days=args.days
    )
    _write(targets["key"], key, private=True, force=args.force)
    _write(targets["certificate"], cert, private=False, force=args.force)
    _write(targets["bundle"], cert + key, private=True, force=args.force)
    if args.csr:
        csr = certificate_signing_request(key, name, passphrase=passphrase, organization=args.organization)
        _write(targets["csr"], csr, private=False, force=args.force)
    prints = thumbprints(cert)
    print(f"Wrote to {out}/:")
    kind = "private key (encrypted)" if passphrase else "private key"
    print(f"  {targets['key'].name:<34} {kind}: keep it here, never send it")
    print(f"  {targets['certificate'].name:<34} certificate (public part): send this to the region")
    print(f"  {targets['bundle'].name:<34} certificate + key, for the connection's Certificate file path")
    if args.csr:
        print(f"  {targets['csr'].name:<34} signing request, if your own CA issues the certificate")
    print()
    print(f"For the registration: application name {name}, the certificate above, and if asked:")
    print(*(f"  {line}" for line in prints.lines()), sep="\n")
    print()
    print("When the region sends the client id: rh-register connection --help")
    return 0


def cmd_thumbprints(args: argparse.Namespace) -> int:
    path = Path(args.certificate)
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror}.") from exc
    print(*thumbprints(text).lines(), sep="\n")
    return 0


def cmd_connection(args: argparse.Namespace) -> int:
    path = Path(args.certificate_path).expanduser().resolve()
    passphrase = _secret_from_env(args.passphrase_env, "key passphrase")
    subscriber_key = _secret_from_env(args.subscriber_key_env, "subscriber key")
    # Load it the way the hook will, so a wrong file or passphrase shows now, not at the first run.
    credentials = load_credentials(certificate_path=path, passphrase=passphrase)
    connection = connection_for(
        client_id=args.client_id,
        auth_url=args.auth_url,
        host=args.host,
        certificate_path=str(path),
        resource=args.resource,
        scopes=args.scopes,
        subscriber_key=subscriber_key,
        passphrase=passphrase,
        test_path=args.test_path,
    )
    text = json.dumps(connection)
    env_name = f"AIRFLOW_CONN_{args.conn_id.upper()}"
    print(f"# Certificate {credentials.subject}, x5t {credentials.x5t}, file {path}")
    if subscriber_key is None:
        print("# Replace the subscriber key placeholder (or use --subscriber-key-env).")
    print("# As an environment variable:")
    print(f"{env_name}={shlex.quote(text)}")
    print("# Or stored in Airflow's database:")
    print(f"airflow connections add {shlex.quote(args.conn_id)} --conn-json {shlex.quote(text)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rh-register",
        description="Make what Region Halland's client registration asks for (docs/getting-access.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    new = sub.add_parser("new", help="a private key, its self-signed certificate (and a CSR), thumbprints")
    new.add_argument("--name", required=True, help="application name, e.g. minklient.mindoman.se (the CN)")
    new.add_argument("--out", help="folder for the files (default: a folder named after --name)")
    new.add_argument("--organization", help="organisation name in the certificate (O=)")
    new.add_argument("--days", type=int, default=DEFAULT_DAYS, help="validity in days")
    new.add_argument("--encrypt", action="store_true", help="encrypt the key; asks for a passphrase")
    new.add_argument("--passphrase-env", metavar="VAR", help="encrypt with the passphrase in $VAR")
    new.add_argument("--csr", action="store_true", help="also write a certificate signing request")
    new.add_argument("--force", action="store_true", help="replace existing files")
    new.set_defaults(run=cmd_new)

    prints = sub.add_parser("thumbprints", help="x5t (SHA-1) and SHA-256 thumbprints of a certificate")
    prints.add_argument("certificate", help="PEM certificate file")
    prints.set_defaults(run=cmd_thumbprints)

    conn = sub.add_parser("connection", help="a ready Airflow connection once the client id arrives")
    conn.add_argument("--certificate-path", required=True, help="the certificate + key file from 'new'")
    conn.add_argument("--client-id", required=True, help="the client id (GUID) the region sent")
    conn.add_argument(
        "--auth-url", required=True, help="token endpoint, https://<adfs-host>/adfs/oauth2/token/"
    )
    conn.add_argument("--host", required=True, help="API base URL, e.g. https://<gateway>/hsainfo/v1")
    conn.add_argument("--resource", help="the API's resource id, e.g. hsainfoapi.regionhalland.se")
    conn.add_argument("--scopes", help="space-separated scopes, e.g. hsainfoapi.read")
    conn.add_argument("--test-path", help="a cheap GET under --host for the Test button, e.g. /health")
    conn.add_argument("--subscriber-key-env", metavar="VAR", help="read the subscriber key from $VAR")
    conn.add_argument("--passphrase-env", metavar="VAR", help="read the key's passphrase from $VAR")
    conn.add_argument("--conn-id", default="regionhalland_default", help="Airflow connection id")
    conn.set_defaults(run=cmd_connection)
    rotate.add_parsers(sub)  # rotate, status: a certificate rotation (docs/rotation.md)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except (UsageError, RegionHallandError) as exc:
        print(f"rh-register: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
