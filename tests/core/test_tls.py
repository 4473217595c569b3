"""TLS: verification is on by default; a custom CA bundle (``verify`` = path) works, and
without it the failure says what to set. Against a real loopback HTTPS server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_rh.core.client import ApiClient
from airflow_provider_rh.core.config import ClientConfig
from airflow_provider_rh.core.credentials import load_credentials
from airflow_provider_rh.core.oauth import TokenProvider
from airflow_provider_rh.core.tokens import TokenCache
from airflow_provider_rh.exceptions import TransportError
from tests.core._seams import CERT, Sleeps, policy
from tests.pki import make_server_pki
from tests.tls_server import https_server as serve_https


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with serve_https(tmp_path_factory.mktemp("pki")) as server:
        yield server


def client_for(url: str, **extra: object) -> ApiClient:
    cfg = ClientConfig.from_connection_fields(
        host=f"{url}/api",
        login="client-guid",
        password="sub-key-123",
        extra={"auth_url": f"{url}/token", "resource": "r", "timeout": 60, **extra},
    )
    tokens = TokenProvider(
        cfg,
        cache=TokenCache(),
        retry=policy(Sleeps(), attempts=1),
        credentials=load_credentials(certificate=CERT.cert_pem, private_key=CERT.key_pem()),
    )
    return ApiClient(cfg, tokens=tokens)


def test_a_custom_ca_bundle_is_trusted(https_server):
    url, ca_path = https_server
    client = client_for(url, verify=str(ca_path))
    assert client.config.verify == str(ca_path)
    assert client.request("GET", "/units").json() == {"items": [1, 2, 3], "auth": True}


def test_verification_is_on_by_default_and_fails_clearly_without_the_bundle(https_server):
    url, _ = https_server
    client = client_for(url)
    assert client.config.verify is True
    with pytest.raises(TransportError) as info:
        client.request("GET", "/units")
    assert "certificate verify failed" in str(info.value).lower()
    assert "Verify TLS (extra.verify)" in str(info.value)
    assert "CA bundle" in str(info.value)


def test_a_bundle_of_another_ca_is_refused(https_server, tmp_path):
    url, _ = https_server
    other_ca, _, _ = make_server_pki("Another CA").write(tmp_path)
    with pytest.raises(TransportError, match="certificate verify failed"):
        client_for(url, verify=str(other_ca)).tokens.get_token()


def test_verify_false_is_honoured(https_server):
    url, _ = https_server
    assert client_for(url, verify="false").tokens.get_token().value == "tls-token"
