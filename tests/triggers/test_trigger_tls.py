"""The trigger against a loopback HTTPS server with a test CA: the connection's CA bundle is used
through the connection's own client (an ssl context, not httpx's deprecated string ``verify``)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.triggers.regionhalland import RegionHallandApiTrigger
from tests.pki import make_cert
from tests.tls_server import https_server as serve_https
from tests.triggers.test_regionhalland_trigger import first_event

CERT = make_cert()


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with serve_https(tmp_path_factory.mktemp("pki")) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_token_cache() -> Iterator[None]:
    SHARED_TOKEN_CACHE.clear()
    yield
    SHARED_TOKEN_CACHE.clear()


def use_connection(monkeypatch: pytest.MonkeyPatch, url: str, **extra: object) -> None:
    conn = {
        "conn_type": "regionhalland",
        "host": f"{url}/api",
        "login": "client-guid",
        "password": "sub-key-123",
        "extra": {
            "auth_url": f"{url}/token",
            "resource": "https://tls.example.se",
            "certificate": CERT.cert_pem,
            "private_key": CERT.key_pem(),
            "timeout": 60,
            **extra,
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", json.dumps(conn))


def test_the_trigger_trusts_a_ca_bundle_path_without_a_deprecation_warning(https_server, monkeypatch):
    url, ca_path = https_server
    use_connection(monkeypatch, url, verify=str(ca_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        event = first_event(RegionHallandApiTrigger(path="/units", poke_interval=0.01, timeout=10))
    assert event["status"] == "success", event
    assert event["url"] == f"{url}/api/units"
    assert event["pokes"] == 1
    about_verify = [str(w.message) for w in caught if "verify" in str(w.message)]
    assert about_verify == []


def test_without_the_bundle_the_trigger_event_says_what_to_set(https_server, monkeypatch):
    url, _ = https_server
    use_connection(monkeypatch, url)
    event = first_event(RegionHallandApiTrigger(path="/units", poke_interval=0.01, timeout=10))
    assert event["status"] == "error"
    assert event["reason"] == "TransportError"
    assert "certificate verify failed" in event["message"].lower()
    assert "Verify TLS (extra.verify)" in event["message"]
