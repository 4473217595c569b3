"""The operator against the sandbox, landing on ``file://``: data, atomicity, reruns, logs, assets.

``execute`` is called with a small context here; ``test_example_dags.py`` runs real DAG runs.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from airflow.sdk import DAG, Asset
from airflow.sdk.execution_time.context import OutletEventAccessors

from airflow_provider_rh.exceptions import ConfigurationError, PaginationError, UnsafeUrlError
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.pagination import (
    CallablePagination,
    CursorPagination,
    LinkHeaderPagination,
    NextLinkPagination,
    OffsetPagination,
    Page,
    PageNumberPagination,
)
from airflow_provider_rh.sandbox import Sandbox
from airflow_provider_rh.sandbox.data import units
from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator

from .support import UNIT_COUNT, hidden_files, read_ndjson, visible_files

pytestmark = pytest.mark.integration

ALL = list(units(UNIT_COUNT))


def operator(destination: Path | str, **kwargs: Any) -> RegionHallandApiToStorageOperator:
    kwargs.setdefault("path", "/units")
    kwargs.setdefault("records_path", "items")
    kwargs.setdefault("pagination", NextLinkPagination("next"))
    kwargs.setdefault("task_id", "pull")
    if isinstance(destination, Path):
        destination = destination.as_uri()
    return RegionHallandApiToStorageOperator(destination=destination, **kwargs)


def test_lands_every_record_as_gzipped_ndjson_with_a_small_summary(sb: Sandbox, tmp_path: Path) -> None:
    final = tmp_path / "hsainfo" / "units" / "units.ndjson.gz"
    summary = operator(final).execute({})
    assert read_ndjson(final) == ALL
    assert summary == {
        "destination": final.as_uri(),
        "paths": [final.as_uri()],
        "files": 1,
        "records": UNIT_COUNT,
        "pages": 3,
        "bytes": final.stat().st_size,
        "duration_seconds": summary["duration_seconds"],
        "retries": 0,
        "token_requests": 1,
    }
    assert len(json.dumps(summary)) < 1024
    assert hidden_files(final.parent) == []


def test_a_rerun_replaces_the_file_instead_of_adding_to_it(sb: Sandbox, tmp_path: Path) -> None:
    final = tmp_path / "units.jsonl"
    operator(final, format="jsonl").execute({})
    first = final.read_bytes()
    operator(final, format="jsonl").execute({})
    assert final.read_bytes() == first
    assert first.decode().count("\n") == UNIT_COUNT  # plain NDJSON: no .gz, no gzip
    assert visible_files(tmp_path) == ["units.jsonl"]


def test_parts_and_a_smaller_rerun_leave_exactly_the_new_parts(sb: Sandbox, tmp_path: Path) -> None:
    final = tmp_path / "units.ndjson.gz"
    summary = operator(final, max_records_per_file=100).execute({})
    assert visible_files(tmp_path) == [f"units-0000{i}.ndjson.gz" for i in range(3)]
    assert summary["files"] == 3
    assert [r for i in range(3) for r in read_ndjson(tmp_path / f"units-0000{i}.ndjson.gz")] == ALL

    window = {"updatedSince": "2026-01-01T00:00:00Z", "updatedBefore": "2026-01-01T10:00:00Z"}
    operator(final, max_records_per_file=100, query_params=window).execute({})
    assert visible_files(tmp_path) == ["units-00000.ndjson.gz", "units-00001.ndjson.gz"]
    assert [r["id"] for i in range(2) for r in read_ndjson(tmp_path / f"units-0000{i}.ndjson.gz")] == list(
        range(1, 120)
    )


def test_parquet_in_row_groups(sb: Sandbox, tmp_path: Path) -> None:
    final = tmp_path / "units.parquet"
    operator(final, format="parquet", parquet_row_group_size=64).execute({})
    parquet = pq.ParquetFile(final)
    assert parquet.metadata.num_row_groups == 4
    assert parquet.read().to_pylist() == ALL


@pytest.mark.parametrize(
    ("path", "pagination", "records_path", "query"),
    [
        ("/units/offset", OffsetPagination(limit=20, total_path="total"), "items", None),
        ("/units/pages", PageNumberPagination(page_size=20, total_path="totalCount"), "items", None),
    ],
    ids=["offset", "pages"],
)
def test_concurrent_pages_are_written_in_page_order(
    sb: Sandbox, tmp_path: Path, path: str, pagination: Any, records_path: str, query: Any
) -> None:
    final = tmp_path / "units.ndjson"
    summary = operator(
        final, path=path, pagination=pagination, records_path=records_path, max_concurrency=4
    ).execute({})
    assert read_ndjson(final) == ALL
    assert summary["pages"] == 13


def test_a_failed_pull_leaves_the_previous_file_and_no_temporaries(sb: Sandbox, tmp_path: Path) -> None:
    final = tmp_path / "units.ndjson.gz"
    operator(final).execute({})
    before = final.read_bytes()
    with pytest.raises(PaginationError, match="Still more pages after max_pages=2"):
        operator(final, max_pages=2, query_params={"limit": 50}).execute({})
    assert final.read_bytes() == before
    assert hidden_files(tmp_path) == []


@pytest.mark.parametrize("trailing_slash", [False, True])
def test_an_existing_folder_as_destination_is_refused_before_pulling(
    sb: Sandbox, tmp_path: Path, trailing_slash: bool
) -> None:
    folder = tmp_path / "units"
    folder.mkdir()
    destination = folder.as_uri() + ("/" if trailing_slash else "")
    requests = sb.stats.api_requests_total
    with pytest.raises(ConfigurationError) as info:
        operator(destination).execute({})
    assert info.value.field == "destination"
    assert destination in str(info.value)
    assert "units.ndjson.gz" in str(info.value)  # what to give instead
    assert sb.stats.api_requests_total == requests  # refused before the first page
    assert list(folder.iterdir()) == []


def off_host(page: Page) -> str:
    return "http://evil.example.net/hsainfo/v1/units?after=100"


def test_a_next_link_off_the_connections_host_fails_clearly(sb: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(UnsafeUrlError) as info:
        operator(tmp_path / "units.ndjson", pagination=CallablePagination(off_host)).execute({})
    assert str(info.value).startswith(
        "Page 1's request returned by tests.transfers.test_api_to_storage.off_host leads off the API's host"
    )
    assert "Refusing to send the token to http://evil.example.net" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_progress_and_summary_are_logged_without_secrets(
    sb: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level("INFO")
    operator(tmp_path / "units.ndjson.gz", progress_interval=0, query_params={"limit": 100}).execute({})
    captured = capsys.readouterr()
    text = caplog.text + captured.out + captured.err
    assert "Pulling http://127.0.0.1" in text
    assert "with NextLinkPagination(next_path='next') into file://" in text
    for pages, records in ((1, 100), (2, 200), (3, 250)):
        assert f"Pulled {pages} pages, {records} records" in text
    assert "Landed 250 records from 3 pages" in text
    token = RegionHallandHook().get_token()
    for secret in (token, sb.subscription_key, sb.private_key_pem.splitlines()[1]):
        assert secret not in text


def test_outlet_assets_get_the_summary_as_extra(sb: Sandbox, tmp_path: Path) -> None:
    asset = Asset(name="hsainfo_units", uri=(tmp_path / "units").as_uri())
    events = OutletEventAccessors()
    summary = operator(tmp_path / "units" / "units.ndjson.gz", outlets=[asset]).execute(
        {"outlet_events": events}  # type: ignore[arg-type]
    )
    assert events[asset].extra == summary


def test_openlineage_is_optional(sb: Sandbox, tmp_path: Path) -> None:
    op = operator(tmp_path / "units.ndjson")
    op.execute({})
    try:
        import airflow.providers.openlineage  # noqa: F401
    except ImportError:  # not a dependency: without it there is nothing to report to
        assert op.get_openlineage_facets_on_complete(None) is None
    else:  # pragma: no cover - only where the OpenLineage provider is installed
        lineage = op.get_openlineage_facets_on_complete(None)
        assert lineage.inputs[0].name == "/hsainfo/v1/units"
        assert lineage.outputs[0].name == str(tmp_path / "units.ndjson")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"format": "csv"}, "format"),
        ({"pagination": "next"}, "pagination"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"max_records_per_file": 0}, "max_records_per_file"),
        ({"records_path": 3}, "records_path"),
    ],
)
def test_bad_arguments_fail_when_the_dag_is_parsed(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        operator("file:///tmp/x.ndjson", **kwargs)
    assert info.value.field == field


def next_page(page: Page) -> None:
    return None


def test_a_dag_with_every_strategy_serializes_and_copies() -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    strategies = [
        NextLinkPagination("@odata.nextLink"),
        LinkHeaderPagination(),
        CursorPagination("cursor"),
        OffsetPagination(total_path="total"),
        PageNumberPagination(total_path="totalCount"),
        CallablePagination(next_page),
    ]
    with DAG(
        "rh_strategies", schedule=None, start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    ) as dag:
        for i, strategy in enumerate(strategies):
            operator(f"file:///tmp/rh/{i}.ndjson", task_id=f"pull_{i}", pagination=strategy)
        RegionHallandApiToStorageOperator.partial(task_id="mapped", path="/units").expand_kwargs(
            [
                {"pagination": s, "destination": f"file:///tmp/rh/m{i}.ndjson"}
                for i, s in enumerate(strategies)
            ]
        )
    data = DagSerialization.to_dict(dag)
    DagSerialization.validate_schema(data)
    restored = DagSerialization.from_dict(json.loads(json.dumps(data)))
    assert sorted(restored.task_ids) == sorted(dag.task_ids)
    restored_task = restored.get_task("pull_0")
    assert list(restored_task.template_fields) == list(RegionHallandApiToStorageOperator.template_fields)
    assert restored_task.destination == "file:///tmp/rh/0.ndjson"
    copied = dag.partial_subset(["pull_5"], include_upstream=False)
    assert copied.get_task("pull_5").pagination == CallablePagination(next_page)
