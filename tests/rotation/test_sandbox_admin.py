"""The sandbox during a rotation: two certificates per client, registered later, and its admin
endpoint's bounds; plus the async token path (triggers) falling back the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.oauth import TokenProvider
from airflow_provider_rh.core.rotation import RotationMemory
from airflow_provider_rh.core.tokens import TokenCache
from airflow_provider_rh.sandbox import Sandbox, SandboxConfig
from airflow_provider_rh.sandbox.admin import MAX_CERTIFICATE_BYTES
from airflow_provider_rh.sandbox.registry import Registry
from tests.pki import make_cert
from tests.sandbox.helpers import Caller, new_key_and_cert, x5t_of

NEXT = make_cert("sandboxclient.example.se", days_valid=400)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(state_dir=tmp_path / "sb", port=0, unit_count=5)) as sb:
        yield sb


@pytest.mark.integration
def test_a_client_signs_with_either_registered_certificate(sandbox: Sandbox):
    with httpx.Client(timeout=10) as http:
        caller = Caller(sandbox, http)
        key, cert = NEXT.key_pem(), NEXT.cert_pem
        before = caller.token_request(assertion=caller.assertion(key_pem=key, cert_pem=cert))
        # What a real AD FS answers an unregistered key: 400 (not 401), invalid_client, MSIS9622.
        assert before.status_code == 400
        assert before.json()["error"] == "invalid_client"
        assert before.json()["error_description"].startswith(
            "MSIS9622: Client authentication failed. Please verify the credential provided for client "
            "authentication is valid."
        )
        url = f"{sandbox.url}/sandbox/admin/clients/{sandbox.client_id}/certificates"
        added = http.post(url, content=cert)
        assert added.status_code == 201
        assert len(added.json()["certificates"]) == 2
        assert caller.token_request(assertion=caller.assertion(key_pem=key, cert_pem=cert)).status_code == 200
        assert caller.token_request().status_code == 200  # the current one still works
        removed = http.delete(f"{url}/{x5t_of(sandbox.certificate_pem)}")
        assert removed.status_code == 200
        assert [c["x5t"] for c in removed.json()["certificates"]] == [x5t_of(cert)]
        assert caller.token_request().status_code == 400


@pytest.mark.integration
def test_the_admin_endpoint_refuses_what_it_cannot_use(sandbox: Sandbox):
    url = f"{sandbox.url}/sandbox/admin/clients"
    with httpx.Client(timeout=10) as http:
        assert http.post(f"{url}/nobody/certificates", content=NEXT.cert_pem).status_code == 404
        assert http.get(f"{url}/nobody/certificates").status_code == 404
        assert http.post(f"{url}/{sandbox.client_id}/certificates", content=b"not pem").status_code == 400
        big = b"A" * (MAX_CERTIFICATE_BYTES + 1)
        assert http.post(f"{url}/{sandbox.client_id}/certificates", content=big).status_code == 413
        assert http.delete(f"{url}/{sandbox.client_id}/certificates/unknown").status_code == 404
        listed = http.get(f"{url}/{sandbox.client_id}/certificates").json()
        assert [c["x5t"] for c in listed["certificates"]] == [x5t_of(sandbox.certificate_pem)]


@pytest.mark.fuzz
@given(st.binary(max_size=2048))
def test_registering_arbitrary_bytes_is_refused_cleanly(data: bytes):
    registry = Registry()
    client_id = registry.register_client(_CERT_PEM)
    try:
        registry.add_certificate(client_id, data.decode("latin-1"))
    except ValueError:
        expected = 1  # refused, the client unchanged
    else:
        expected = 2
    client = registry.client(client_id)
    assert client is not None
    assert len(client.certificates) == expected


_CERT_PEM = new_key_and_cert("fuzz.example.se")[1]


@pytest.mark.integration
def test_the_async_path_falls_back_like_the_sync_one(sandbox: Sandbox):
    extra = {
        **sandbox.connection["extra"],
        "next_certificate": NEXT.cert_pem,
        "next_private_key": NEXT.key_pem(),
    }
    config = ClientConfig.from_connection_fields(
        host=sandbox.base_url, login=sandbox.client_id, password=sandbox.subscription_key, extra=extra
    )
    memory = RotationMemory()
    tokens = TokenProvider(config, cache=TokenCache(), rotation_memory=memory)

    async def token() -> str:
        async with httpx.AsyncClient(timeout=10) as client:
            return (await tokens.aget_token(client)).value

    assert asyncio.run(token())
    assert sandbox.stats.token_requests == 2  # next refused, current accepted
    sandbox.ctx.registry.add_certificate(sandbox.client_id, NEXT.cert_pem)
    memory.clear()  # as after the back-off
    fresh = TokenProvider(config, cache=TokenCache(), rotation_memory=memory)
    tokens = fresh
    assert asyncio.run(token())
    assert sandbox.stats.token_requests == 3  # the next one, accepted at once
    assert memory.is_accepted((sandbox.client_id, fresh.credentials.x5t_s256))
