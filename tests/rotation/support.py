"""Shared by the rotation tests: every secret form of a test certificate's key, to search for,
and which certificate signed each token request the sandbox answered."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_rh.sandbox import tokens as sandbox_tokens
from airflow_provider_rh.sandbox.assertion import unverified_header_and_claims
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


def watch_token_requests(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """A list that gets ``(x5t, accepted)`` of each token request the sandbox answers from now on."""
    seen: list[tuple[str, bool]] = []
    original = sandbox_tokens.issue

    def issue(ctx: Any, form: Any, *, now: float) -> dict[str, Any]:
        header, _ = unverified_header_and_claims(form["client_assertion"])
        try:
            body = original(ctx, form, now=now)
        except Exception:
            seen.append((str(header.get("x5t")), False))
            raise
        seen.append((str(header.get("x5t")), True))
        return body

    monkeypatch.setattr(sandbox_tokens, "issue", issue)
    return seen
