"""Operator arguments are checked when the DAG is parsed (issue 14, class 7)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_rh.exceptions import ConfigurationError
from airflow_provider_rh.operators.regionhalland import RegionHallandApiOperator
from airflow_provider_rh.pagination import NextLinkPagination
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator


def storage(**kwargs: Any) -> RegionHallandApiToStorageOperator:
    kwargs.setdefault("path", "/units")
    kwargs.setdefault("destination", "file:///tmp/units.ndjson")
    return RegionHallandApiToStorageOperator(
        task_id="pull", pagination=NextLinkPagination("next"), records_path="items", **kwargs
    )


def api(**kwargs: Any) -> RegionHallandApiOperator:
    kwargs.setdefault("path", "/units")
    return RegionHallandApiOperator(task_id="call", **kwargs)


@pytest.mark.parametrize(
    ("make", "kwargs", "field", "words"),
    [
        (storage, {"progress_interval": "5"}, "progress_interval", "must be a number of seconds"),
        (storage, {"progress_interval": True}, "progress_interval", "must be a number of seconds"),
        (storage, {"progress_interval": float("nan")}, "progress_interval", "finite number"),
        (storage, {"progress_interval": -1}, "progress_interval", "at least 0"),
        (storage, {"max_pages": True}, "max_pages", "whole number"),
        (storage, {"max_concurrency": 0}, "max_concurrency", "at least 1"),
        (storage, {"max_records_per_file": "100"}, "max_records_per_file", "whole number"),
        (storage, {"headers": {"Authorization": "Bearer mine"}}, "headers", "sets Authorization"),
        (api, {"headers": {"authorization": "x"}}, "headers", "sets authorization"),
        (api, {"headers": {"Host": "evil.example"}}, "headers", "sets Host"),
        (api, {"headers": {"Content-Length": "3"}}, "headers", "sets Content-Length"),
        (api, {"headers": {"X Bad": "1"}}, "headers", "not an HTTP header name"),
        (api, {"headers": {"X-Id": "a\r\nInjected: 1"}}, "headers", "line break"),
        (api, {"headers": {"X-Id": 5}}, "headers", "header values are strings"),
        (api, {"resource": "annat\napi.regionhalland.se"}, "resource", "without spaces or control"),
        (api, {"resource": "two words"}, "resource", "a space at position 4"),
        (api, {"scopes": "annatapi.read\tannatapi.write"}, "scopes", "\\t at position 14"),
        (api, {"scopes": ["annatapi.read", "bad scope"]}, "scopes", "each list item is one scope"),
        (api, {"method": "FETCH"}, "method", "must be one of GET"),
        (api, {"max_xcom_bytes": 0}, "max_xcom_bytes", "at least 1"),
        (api, {"response_filter": "id"}, "response_filter", "must be a function"),
        (api, {"path": "/units\x1b[2J"}, "path", "control character"),
        (api, {"query_params": [("a", 1)]}, "query_params", "must be a dict"),
        (api, {"allow_empty_interval": "yes"}, "allow_empty_interval", "True or False"),
    ],
)
def test_a_bad_argument_fails_at_parse_time_naming_it(make, kwargs, field, words):
    with pytest.raises(ConfigurationError) as info:
        make(**kwargs)
    assert info.value.field == field
    assert f"argument {field}" in str(info.value)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"resource": "{{ params.resource }}"},
        {"scopes": "{{ var.value.scopes }} extra"},
        {"headers": {"X-Request-Id": "{{ run_id }}", "Content-Type": "application/json"}},
        {"query_params": "{{ params.query }}"},
        {"path": "/units/{{ params.unit_id }}"},
    ],
)
def test_templates_are_checked_for_type_only(kwargs):
    assert api(**kwargs).task_id == "call"


def test_good_arguments_are_kept_as_given():
    op = storage(progress_interval=0, max_pages=3, scopes=["annatapi.read", "annatapi.write"])
    assert op.progress_interval == 0
    assert op.scopes == ["annatapi.read", "annatapi.write"]
