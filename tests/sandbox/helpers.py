"""A small AD FS + gateway client written here, independent of the provider (plain httpx + joserfc)."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from joserfc import jwt
from joserfc.jwk import RSAKey

from airflow_provider_rh.sandbox import Sandbox, SandboxConfig
from tests.pki import make_cert

HSAINFO = "hsainfoapi.regionhalland.se"
ANNAT = "annatapi.regionhalland.se"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
UNIT_COUNT = 237


@dataclass
class FakeClock:
    """An injectable clock: tests move time instead of sleeping."""

    now: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def new_key_and_cert(common_name: str = "other.example.se") -> tuple[str, str]:
    """A throwaway RSA key (PKCS#8 PEM) and self-signed certificate (PEM), valid for 30 days."""
    cert = make_cert(common_name, days_valid=30)
    return cert.key_pem(), cert.cert_pem


def x5t_of(cert_pem: str) -> str:
    der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(serialization.Encoding.DER)
    return base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()


@dataclass
class Caller:
    """Builds client assertions and calls the sandbox the way the region documents it."""

    sb: Sandbox
    http: httpx.Client

    def assertion(
        self,
        *,
        client_id: str | None = None,
        key_pem: str | None = None,
        cert_pem: str | None = None,
        aud: Any = None,
        with_x5t: bool = True,
        exp_in: float = 300,
        iat_offset: float = 0,
        nbf_offset: float = 0,
        jti: str | None = None,
        now: float | None = None,
    ) -> str:
        cid = client_id or self.sb.client_id
        now = time.time() if now is None else now
        header: dict[str, Any] = {"alg": "RS256", "typ": "JWT"}
        if with_x5t:
            header["x5t"] = x5t_of(cert_pem or self.sb.certificate_pem)
        claims = {
            "iss": cid,
            "sub": cid,
            "aud": self.sb.token_url if aud is None else aud,
            "jti": jti or str(uuid.uuid4()),
            "iat": int(now + iat_offset),
            "nbf": int(now + nbf_offset),
            "exp": int(now + exp_in),
        }
        return jwt.encode(header, claims, RSAKey.import_key(key_pem or self.sb.private_key_pem))

    def token_request(
        self,
        *,
        assertion: str | None = None,
        resource: str | None = HSAINFO,
        scope: str | None = "hsainfoapi.read",
        client_id: str | None = None,
        **extra: str,
    ) -> httpx.Response:
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id or self.sb.client_id,
            "client_assertion_type": JWT_BEARER,
            "client_assertion": assertion or self.assertion(client_id=client_id),
            **extra,
        }
        if resource is not None:
            form["resource"] = resource
        if scope is not None:
            form["scope"] = scope
        return self.http.post(self.sb.token_url, data=form)

    def token(self, resource: str = HSAINFO, scope: str | None = None) -> str:
        response = self.token_request(resource=resource, scope=scope)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def api(
        self,
        path: str,
        *,
        token: str | None = None,
        key: str | None = None,
        params: dict[str, Any] | None = None,
        url: str | None = None,
    ) -> httpx.Response:
        headers = {
            "Ocp-Apim-Subscription-Key": key or self.sb.subscription_key,
            "Authorization": f"Bearer {token or self.token()}",
        }
        return self.http.get(url or self.sb.base_url + path, headers=headers, params=params)


def start_sandbox(state_dir: Path, **config: Any) -> Sandbox:
    config.setdefault("unit_count", UNIT_COUNT)
    return Sandbox(SandboxConfig(state_dir=state_dir, port=0, **config)).start()
