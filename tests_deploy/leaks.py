"""Find secrets where none may be: component logs, task logs, a dump of the metadata database.

Two kinds of evidence: literal values we know (subscriber key, passphrase, every line of a
private key's body), and JWTs whose issuer or audience is the sandbox, i.e. access tokens it
issued and client assertions signed for it, which we never see directly but can recognise.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
#: Lines of a PEM body shorter than this could match by chance; real ones are 64 characters.
_MIN_LINE = 40


@dataclass(frozen=True)
class Leak:
    path: Path
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


def needles(secrets: Mapping[str, str]) -> dict[str, bytes]:
    """Named byte strings to look for: each value, and each long line of a PEM body."""
    found: dict[str, bytes] = {}
    for name, value in secrets.items():
        if not value:
            continue
        if "-----BEGIN" in value:
            for number, line in enumerate(value.splitlines()):
                line = line.strip()
                if len(line) >= _MIN_LINE and not line.startswith("-----"):
                    found[f"{name} (line {number})"] = line.encode()
        else:
            found[name] = value.encode()
    return found


def _claims(token: bytes) -> dict[str, Any]:
    payload = token.split(b".")[1]
    try:
        decoded = base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4))
        claims = json.loads(decoded)
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


def _is_sandbox_jwt(token: bytes, origin: str, client_id: str) -> bool:
    claims = _claims(token)
    audiences = claims.get("aud")
    values = [claims.get("iss"), *(audiences if isinstance(audiences, list) else [audiences])]
    return any(isinstance(v, str) and (v.startswith(origin) or v == client_id) for v in values)


def scan(
    paths: Iterable[Path], secrets: Mapping[str, str], *, sandbox_url: str, client_id: str
) -> list[Leak]:
    """Every place in ``paths`` holding one of ``secrets`` or a sandbox token or assertion."""
    parts = urlsplit(sandbox_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    wanted = needles(secrets)
    leaks: list[Leak] = []
    for path in paths:
        data = path.read_bytes()
        leaks.extend(Leak(path, name) for name, needle in wanted.items() if needle in data)
        for match in _JWT.finditer(data):
            if _is_sandbox_jwt(match.group(0), origin, client_id):
                leaks.append(Leak(path, f"a JWT issued by or for the sandbox ({match.group(0)[:12]!r}...)"))
    return leaks
