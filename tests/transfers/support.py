"""Helpers shared by the transfer tests (fixtures are in ``conftest.py``)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_rh.core.oauth import SHARED_TOKEN_CACHE
from airflow_provider_rh.sandbox import Sandbox, SandboxConfig

UNIT_COUNT = 250


def start_sandbox(state_dir: Any, **config: Any) -> Sandbox:
    config.setdefault("unit_count", UNIT_COUNT)
    return Sandbox(SandboxConfig(state_dir=state_dir, port=0, **config)).start()


def use_sandbox(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """Point ``regionhalland_default`` at ``sb``, with an empty token cache."""
    monkeypatch.setenv("AIRFLOW_CONN_REGIONHALLAND_DEFAULT", sb.connection_uri_env())
    SHARED_TOKEN_CACHE.clear()
    return sb


def read_ndjson(data: bytes | Path) -> list[Any]:
    """The records of an NDJSON file (gzipped or not), given as bytes or a path."""
    raw = data.read_bytes() if isinstance(data, Path) else data
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return [json.loads(line) for line in raw.decode().splitlines()]


def visible_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def hidden_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@dataclass
class S3:
    """A bucket on the moto server, reachable as ``s3://<bucket>`` with conn id ``aws_test``."""

    endpoint: str
    bucket: str
    client: Any
    conn_id: str = "aws_test"

    def list_keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())


# Reading what a run left in the metadata DB (Airflow imported late: only tests that run a DAG need it).


def xcom(dag_run: Any, task_id: str, map_index: int = -1) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(
            run_id=dag_run.run_id,
            dag_ids=dag_run.dag_id,
            task_ids=task_id,
            map_indexes=map_index,
            key="return_value",
        )
        return XComModel.deserialize_value(session.scalars(query).one())


def asset_event_extras(uri: str) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = (
            select(AssetEvent.extra)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == uri)
            .order_by(AssetEvent.id)
        )
        return [dict(extra) for extra in session.scalars(query)]
