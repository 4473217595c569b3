"""``rh-register``: make what the region's client registration asks for, then the connection.

    rh-register new --name minklient.mindoman.se [--encrypt] [--csr]
    rh-register thumbprints minklient.mindoman.se/minklient.mindoman.se.crt.pem
    rh-register connection --certificate-path .../minklient.mindoman.se.pem --client-id GUID \\
        --auth-url https://<adfs-host>/adfs/oauth2/token/ --host https://<gateway>/hsainfo/v1 \\
        --resource hsainfoapi.regionhalland.se --scopes hsainfoapi.read

Secrets never go on the command line (shell history, ``ps``): a passphrase is asked for, or
read from the environment variable you name, and so is the subscriber key; the connection,
secrets included, goes to a file of mode 600, and what is printed reads it from there.
Inputs are checked and files written without following links in ``_inputs``.
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
from airflow_provider_rh.exceptions import CertificateError, RegionHallandError
from airflow_provider_rh.registration import rotate
from airflow_provider_rh.registration._inputs import (
    MAX_CERTIFICATE_BYTES,
    UsageError,
    check_conn_id,
    check_days,
    check_folder,
    check_name,
    check_organization,
    check_passphrase,
    check_target,
    env_name,
    is_shell_name,
    write_file,
)
from airflow_provider_rh.registration.material import (
    DEFAULT_DAYS,
    certificate_signing_request,
    connection_for,
    new_private_key,
    self_signed_certificate,
    thumbprints,
)


def _secret_from_env(name: str | None, what: str) -> str | None:
    if name is None:
        return None
    value = os.environ.get(name)
    if not value:
        raise UsageError(f"The environment variable {name} (the {what}) is empty or not set.")
    return value


def _ask_passphrase() -> str:
    first = check_passphrase(getpass.getpass("Passphrase for the new private key: "), source="typed")
    if getpass.getpass("Same passphrase again: ") != first:
        raise UsageError("The two passphrases differ; nothing was written.")
    return first


def cmd_new(args: argparse.Namespace) -> int:
    name = check_name(args.name)
    organization = check_organization(args.organization)
    days = check_days(args.days)
    out = Path(args.out or name)
    check_folder(out)
    passphrase = _secret_from_env(args.passphrase_env, "key passphrase")
    if passphrase is not None:
        check_passphrase(passphrase, source=f"${args.passphrase_env}")
    elif args.encrypt:
        passphrase = _ask_passphrase()
    targets = {
        "key": out / f"{name}.key.pem",
        "certificate": out / f"{name}.crt.pem",
        "bundle": out / f"{name}.pem",
        "csr": out / f"{name}.csr.pem",
    }
    for path in targets.values():  # all refused before any is written
        check_target(path, force=args.force)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = new_private_key(passphrase)
    cert = self_signed_certificate(key, name, passphrase=passphrase, organization=organization, days=days)
    write_file(targets["key"], key, private=True, force=args.force)
    write_file(targets["certificate"], cert, private=False, force=args.force)
    write_file(targets["bundle"], cert + key, private=True, force=args.force)
    if args.csr:
        csr = certificate_signing_request(key, name, passphrase=passphrase, organization=organization)
        write_file(targets["csr"], csr, private=False, force=args.force)
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
        with path.open("rb") as handle:
            data = handle.read(MAX_CERTIFICATE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror}.") from exc
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise UsageError(f"{path} is over {MAX_CERTIFICATE_BYTES} bytes: not a certificate file.")
    print(*thumbprints(data).lines(), sep="\n")
    return 0


def cmd_connection(args: argparse.Namespace) -> int:
    conn_id = check_conn_id(args.conn_id)
    path = Path(args.certificate_path).expanduser().resolve()
    passphrase = _secret_from_env(args.passphrase_env, "key passphrase")
    subscriber_key = _secret_from_env(args.subscriber_key_env, "subscriber key")
    # Load it the way the hook will, so a wrong file or passphrase shows now, not at the first run.
    try:
        credentials = load_credentials(certificate_path=path, passphrase=passphrase)
    except CertificateError as exc:
        if exc.field != "private_key_passphrase":
            raise
        if passphrase is None:
            raise UsageError(
                f"The private key in {path} is encrypted: put its passphrase in an environment "
                "variable and name it with --passphrase-env, e.g. `read -rs RH_KEY_PASSPHRASE && "
                "export RH_KEY_PASSPHRASE`, then --passphrase-env RH_KEY_PASSPHRASE."
            ) from None
        raise UsageError(
            f"The passphrase in ${args.passphrase_env} (--passphrase-env) does not open the private key "
            f"in {path}: it is wrong, or the key text is damaged."
        ) from None
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
    # Airflow's connections file (``airflow connections import``, LocalFilesystemBackend): the
    # secrets stay in a file of mode 600 and never reach a command line or shell history.
    output = Path(args.output or f"{conn_id}.json")
    if output.parent != Path():
        check_folder(output.parent)
    write_file(output, json.dumps({conn_id: connection}, indent=2) + "\n", private=True, force=args.force)
    shown_path = shlex.quote(str(output))
    variable = env_name(conn_id)
    print(f"# Certificate {credentials.subject}, x5t {credentials.x5t}, file {path}")
    print(f"# Wrote {output} (mode 600): connection {conn_id}, secrets included; keep it like the key.")
    if subscriber_key is None:
        print("# Replace the subscriber key placeholder in it (or use --subscriber-key-env).")
    print("# Stored in Airflow's database:")
    print(f"airflow connections import {shown_path}")
    print("# Or as an environment variable, read from the file:")
    value = (
        "\"$(python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))[sys.argv[2]]))' "
        f'{shown_path} {shlex.quote(conn_id)})"'
    )
    if is_shell_name(variable):
        print(f"export {variable}={value}")
    else:
        print(f"# {variable} is what Airflow reads for {conn_id!r}, but a shell variable name cannot hold")
        print("# '-' or '.': set it with env (or in a container's or service's environment), or use an id")
        print(f"# of letters, digits and '_' (--conn-id {conn_id.replace('-', '_').replace('.', '_')}).")
        print(f"env {shlex.quote(variable + '=')}{value} airflow connections test {shlex.quote(conn_id)}")
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
    conn.add_argument(
        "--output", metavar="FILE", help="where the connection goes (mode 600; default: <conn-id>.json)"
    )
    conn.add_argument("--force", action="store_true", help="replace an existing --output file")
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
