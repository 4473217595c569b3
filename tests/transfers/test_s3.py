"""Landing on S3 through ``ObjectStoragePath``: moto in server mode on 127.0.0.1 is the endpoint.

The ``aws_test`` connection (an environment variable) carries moto's endpoint; the amazon
provider gives ``ObjectStoragePath`` its ``s3://`` filesystem (s3fs).
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_rh.exceptions import ConfigurationError, PaginationError
from airflow_provider_rh.pagination import NextLinkPagination, OffsetPagination
from airflow_provider_rh.sandbox import Sandbox
from airflow_provider_rh.sandbox.data import units
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

from .support import S3, UNIT_COUNT, read_ndjson

pytestmark = pytest.mark.integration

ALL = list(units(UNIT_COUNT))


def operator(s3: S3, key: str, **kwargs: Any) -> RegionHallandApiToStorageOperator:
    kwargs.setdefault("pagination", NextLinkPagination("next"))
    return RegionHallandApiToStorageOperator(
        task_id="pull",
        path=kwargs.pop("path", "/units"),
        records_path="items",
        destination=f"s3://{s3.bucket}/{key}",
        destination_conn_id=s3.conn_id,
        **kwargs,
    )


def test_lands_on_s3_and_a_rerun_replaces_the_object(sb: Sandbox, s3: S3) -> None:
    key = "hsainfo/units/2026-01-01/units.ndjson.gz"
    summary = operator(s3, key).execute({})
    assert s3.list_keys() == [key]
    assert read_ndjson(s3.read(key)) == ALL
    assert summary["paths"] == [f"s3://{s3.bucket}/{key}"]
    assert summary["bytes"] == len(s3.read(key))

    operator(s3, key, query_params={"updatedBefore": "2026-01-01T01:00:00Z"}).execute({})
    assert s3.list_keys() == [key]
    assert [r["id"] for r in read_ndjson(s3.read(key))] == list(range(1, 12))


def test_parts_on_s3_with_concurrency_and_stale_parts_removed(sb: Sandbox, s3: S3) -> None:
    pagination = OffsetPagination(limit=25, total_path="total")
    operator(
        s3,
        "units/units.ndjson.gz",
        path="/units/offset",
        pagination=pagination,
        max_records_per_file=100,
        max_concurrency=3,
    ).execute({})
    assert s3.list_keys() == [f"units/units-0000{i}.ndjson.gz" for i in range(3)]
    assert [r for k in s3.list_keys() for r in read_ndjson(s3.read(k))] == ALL

    operator(
        s3,
        "units/units.ndjson.gz",
        max_records_per_file=100,
        query_params={"updatedBefore": "2026-01-01T10:00:00Z"},
    ).execute({})
    assert s3.list_keys() == ["units/units-00000.ndjson.gz", "units/units-00001.ndjson.gz"]


def test_a_failed_pull_leaves_no_object_at_all(sb: Sandbox, s3: S3) -> None:
    with pytest.raises(PaginationError, match="max_pages=1"):
        operator(s3, "units/units.ndjson.gz", max_pages=1).execute({})
    assert s3.list_keys() == []


def test_a_prefix_with_objects_under_it_is_refused_before_pulling(sb: Sandbox, s3: S3) -> None:
    s3.client.put_object(Bucket=s3.bucket, Key="units/2026-01-01/old.ndjson.gz", Body=b"old")
    requests = sb.stats.api_requests_total
    with pytest.raises(ConfigurationError, match="objects exist under that prefix") as info:
        operator(s3, "units/2026-01-01").execute({})
    assert info.value.field == "destination"
    assert sb.stats.api_requests_total == requests
    assert s3.list_keys() == ["units/2026-01-01/old.ndjson.gz"]


def test_parquet_on_s3(sb: Sandbox, s3: S3) -> None:
    import io

    import pyarrow.parquet as pq

    operator(s3, "units/units.parquet", format="parquet", parquet_row_group_size=100).execute({})
    table = pq.read_table(io.BytesIO(s3.read("units/units.parquet")))
    assert table.to_pylist() == ALL
