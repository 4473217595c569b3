"""The connection's Port, which Airflow 3.3.1-3.3.2's Test button needs, changes nothing else.

The docs and the form tell users to fill in Port (443 for https); a default port must give the
same base URL, same-origin rule and lineage namespace as no port at all, and a port already in
the API base URL wins.
"""

from __future__ import annotations

import httpx
import pytest

from airflow_provider_rh.hooks.regionhalland import config_from_connection
from airflow_provider_rh.transfers._lineage import api_dataset

EXTRA = {"issuer": "https://adfs.example.se/adfs"}  # valid before and after the auth_url rename


def base_url(host: str, port: int | None) -> str:
    config = config_from_connection(host, "client-id", "key", EXTRA, port)
    assert config.base_url is not None
    return config.base_url


@pytest.mark.parametrize(
    ("host", "port"),
    [("https://api.example.se/hsainfo/v1", 443), ("http://127.0.0.1/hsainfo/v1", 80)],
)
def test_the_default_port_of_the_scheme_changes_nothing(host: str, port: int):
    assert base_url(host, port) == base_url(host, None) == host
    assert api_dataset(base_url(host, port), "/units") == api_dataset(host, "/units")


def test_another_port_is_used():
    assert base_url("https://api.example.se/hsainfo/v1", 8443) == "https://api.example.se:8443/hsainfo/v1"
    assert httpx.URL(base_url("api.example.se", 8443)).port == 8443


def test_a_port_in_the_base_url_wins():
    assert base_url("http://127.0.0.1:8765/hsainfo/v1", 443) == "http://127.0.0.1:8765/hsainfo/v1"
