"""The API operator against the sandbox: JSON to XCom, the size guard, templating, no secrets."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_rh.exceptions import ApiError, PayloadTooLargeError
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.operators.regionhalland import (
    DEFAULT_MAX_XCOM_BYTES,
    RegionHallandApiOperator,
    xcom_size,
)
from airflow_provider_rh.sandbox.data import unit

pytestmark = pytest.mark.integration


def test_returns_the_json_of_one_unit(sb):
    assert RegionHallandApiOperator(task_id="unit", path="/units/1").execute({}) == unit(1)


def test_query_params_reach_the_api(sb):
    page = RegionHallandApiOperator(task_id="page", path="/units", query_params={"limit": 3}).execute({})
    assert [item["id"] for item in page["items"]] == [1, 2, 3]
    assert page["next"].startswith(sb.base_url)


def test_response_filter_shapes_what_is_pushed(sb):
    op = RegionHallandApiOperator(
        task_id="names",
        path="/units",
        query_params={"limit": 50},
        response_filter=lambda page: [item["name"] for item in page["items"]],
        max_xcom_bytes=4096,  # the whole page would not fit; the names do
    )
    names = op.execute({})
    assert len(names) == 50
    assert names[0] == unit(1)["name"]


def test_size_guard_names_size_limit_and_the_alternative(sb):
    op = RegionHallandApiOperator(
        task_id="page", path="/units", query_params={"limit": 50}, max_xcom_bytes=4096
    )
    with pytest.raises(PayloadTooLargeError) as info:
        op.execute({})
    error = info.value
    assert error.limit == 4096
    assert error.size > 4096
    message = str(error)
    assert f"{error.size} bytes" in message
    assert "max_xcom_bytes=4096" in message
    assert "RegionHallandApiToStorageOperator" in message
    assert f"GET {sb.base_url}/units" in message


def test_size_guard_only_guards_xcom(sb):
    op = RegionHallandApiOperator(
        task_id="page", path="/units", query_params={"limit": 50}, max_xcom_bytes=10, do_xcom_push=False
    )
    assert op.execute({}) is None


def test_default_limit_fits_a_large_page(sb):
    page = RegionHallandApiOperator(task_id="page", path="/units", query_params={"limit": 50}).execute({})
    assert xcom_size(page) < DEFAULT_MAX_XCOM_BYTES


def test_api_errors_fail_the_task(sb):
    with pytest.raises(ApiError) as info:
        RegionHallandApiOperator(task_id="missing", path="/units/999").execute({})
    assert info.value.status_code == 404


def test_template_fields_render():
    op = RegionHallandApiOperator(
        task_id="t",
        method="post",
        path="/units/{{ unit }}",
        query_params={"since": "{{ ds }}"},
        headers={"X-Run": "{{ run }}"},
        json={"ids": ["{{ unit }}"]},
        data={"form": "{{ run }}"},
        resource="{{ res }}",
        scopes="{{ res }}.read",
    )
    op.render_template_fields({"unit": 7, "ds": "2026-01-01", "run": "r1", "res": "hsainfoapi"})
    assert op.method == "POST"
    assert op.path == "/units/7"
    assert op.query_params == {"since": "2026-01-01"}
    assert op.headers == {"X-Run": "r1"}
    assert op.json == {"ids": ["7"]}
    assert op.data == {"form": "r1"}
    assert (op.resource, op.scopes) == ("hsainfoapi", "hsainfoapi.read")


def test_no_secret_in_xcom_or_logs(sb, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    pushed = RegionHallandApiOperator(task_id="unit", path="/units/2").execute({})
    token = RegionHallandHook().get_token()  # the cached token the call used
    captured = capsys.readouterr()
    logs = caplog.text + captured.out + captured.err
    assert "/units/2" in logs  # the call was logged at all
    for secret in (sb.subscription_key, token):
        assert secret not in json.dumps(pushed)
        assert secret not in logs
