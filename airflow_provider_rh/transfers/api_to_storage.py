"""Page through a Region Halland API and stream the records into object storage.

The Airflow side only: rendering, the hook, ``ObjectStoragePath``, asset events and lineage.
Paging is :mod:`airflow_provider_rh.pagination`; writing is the private modules beside this one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import httpx
from airflow.sdk import BaseOperator

from airflow_provider_rh._arguments import check_arguments
from airflow_provider_rh._windowing import WindowedMixin, check_window_args
from airflow_provider_rh.core.retry import RetryPolicy, RetryStats
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook
from airflow_provider_rh.incremental import DeltaLink, Incremental
from airflow_provider_rh.pagination import DEFAULT_MAX_PAGES, KeyPath, Pager, PageRequest, Pagination
from airflow_provider_rh.pagination._base import positive_int
from airflow_provider_rh.pagination._body import bind_request, check_method
from airflow_provider_rh.transfers._formats import (
    DEFAULT_GZIP_LEVEL,
    DEFAULT_ROW_GROUP_SIZE,
    check_gzip_level,
    normalize_format,
)
from airflow_provider_rh.transfers._lineage import api_dataset, storage_dataset
from airflow_provider_rh.transfers._progress import DEFAULT_INTERVAL, Progress
from airflow_provider_rh.transfers._pull import pull
from airflow_provider_rh.transfers._repeat import RepeatablePolicy
from airflow_provider_rh.transfers._shapes import check_shape_args, previous_summary, pull_shaped
from airflow_provider_rh.transfers._sink import RecordSink, TryIdentity
from airflow_provider_rh.windows import TimeWindow

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath


class RegionHallandApiToStorageOperator(WindowedMixin, BaseOperator):
    """Pull every page of an endpoint into one file (or numbered parts) in object storage.

    Records are written page by page as they arrive, so memory stays flat however many pages
    there are, and only a small summary goes to XCom (paths, records, pages, bytes, duration,
    retries, token requests, window). The write is atomic: a hidden temporary beside the
    destination is moved into place at the end, so readers see the whole file or none, a failed
    try leaves nothing, and a rerun of the same window replaces the file. ``query_params`` is the
    URL query (``params`` belongs to Airflow: DAG params). ``destination`` is any
    ``ObjectStoragePath`` URL naming a file; a folder is refused before anything is pulled.

    .. code-block:: python

        RegionHallandApiToStorageOperator(
            task_id="pull_units",
            path="/units",
            window=TimeWindow("updatedSince", "updatedBefore"),
            records_path="items",
            pagination=NextLinkPagination("next"),
            destination="s3://lake/hsainfo/units/{{ window_start | ds }}/units.ndjson.gz",
            destination_conn_id="aws_default",
        )

    :param path: endpoint path, relative to the connection's host (API base URL).
    :param pagination: a strategy from :mod:`airflow_provider_rh.pagination`.
    :param records_path: where the records are in a page: a dotted path or a list of keys;
        ``None`` when the page is a bare JSON array.
    :param format: ``ndjson`` (gzip when the name ends in ``.gz``; ``jsonl`` is the same) or
        ``parquet`` (needs the ``parquet`` extra).
    :param max_pages: fail instead of following more pages than this.
    :param max_records_per_file: start a new numbered part after this many records.
    :param max_concurrency: pages fetched at once when the first page tells the total
        (offset or page number with a total); the file is still written in page order.
    :param gzip_level: compression level (0-9) of ``.gz`` NDJSON; 6 compresses about as well
        as 9 at a quarter of the cost.
    :param window: a :class:`~airflow_provider_rh.windows.TimeWindow`: each run's ``[since,
        until)`` goes into the query, into templates as ``window_start``/``window_end``, into the
        XCom summary and the asset events (``"window"``). Right under every timetable.
    :param allow_empty_interval: let ``path``/``query_params`` read ``data_interval_start`` or
        ``data_interval_end`` on a run whose data interval is empty; refused by default, because
        that query asks for nothing.
    :param http_retry: bounds and pacing of HTTP retries (default ``RetryPolicy()``: 5
        attempts, 300 s); the summary counts the retries and token requests of the pull.
    :param method: the HTTP method of every page (``"POST"`` for a search API); as on
        ``RegionHallandApiOperator``.
    :param json: the JSON body of the first page (templated); every next page sends it again
        with only the paging values changed (see :class:`~airflow_provider_rh.pagination.InBody`).
    :param data: a form body instead (templated); paging cannot go into a form.
    :param idempotent: ``True`` says the request is safe to repeat though its method is not
        (a read-only POST search): 5xx answers and dropped connections are then retried as for a
        GET. By default a POST is retried only where the server did not process it (429,
        connection refused).
    :param incremental: an :class:`~airflow_provider_rh.incremental.Incremental`: each run
        asks from the largest value of a record field the last successful run landed (kept in
        the XCom summary and asset events as ``"incremental"``).
    :param delta: a :class:`~airflow_provider_rh.incremental.DeltaLink`: each run starts from
        the delta link the last successful run's last page handed out (kept as ``"delta"``);
        the first run, and a run whose link has expired, read everything from ``path``.
    """

    template_fields: Sequence[str] = (
        "path",
        "query_params",
        "headers",
        "json",
        "data",
        "destination",
        "resource",
        "scopes",
    )
    template_fields_renderers = {"query_params": "json", "headers": "json", "json": "json", "data": "json"}
    ui_color = "#e3f1e9"

    def __init__(
        self,
        *,
        path: str,
        destination: str,
        pagination: Pagination,
        records_path: KeyPath | None = None,
        query_params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        format: str = "ndjson",
        destination_conn_id: str | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
        max_records_per_file: int | None = None,
        max_concurrency: int = 1,
        resource: str | None = None,
        scopes: str | list[str] | None = None,
        regionhalland_conn_id: str = RegionHallandHook.default_conn_name,
        parquet_row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
        gzip_level: int = DEFAULT_GZIP_LEVEL,
        progress_interval: float = DEFAULT_INTERVAL,
        window: TimeWindow | None = None,
        allow_empty_interval: bool = False,
        http_retry: RetryPolicy | None = None,
        method: str = "GET",
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        incremental: Incremental | None = None,
        delta: DeltaLink | None = None,
        **kwargs: Any,
    ) -> None:
        check_arguments(  # by type and range when the DAG is parsed
            type(self).__name__,
            path=path,
            destination=destination,
            query_params=query_params,
            headers=headers,
            destination_conn_id=destination_conn_id,
            max_pages=max_pages,
            max_records_per_file=max_records_per_file,
            max_concurrency=max_concurrency,
            resource=resource,
            scopes=scopes,
            regionhalland_conn_id=regionhalland_conn_id,
            parquet_row_group_size=parquet_row_group_size,
            gzip_level=gzip_level,
            progress_interval=progress_interval,
            allow_empty_interval=allow_empty_interval,
        )
        super().__init__(**kwargs)
        check_window_args(window, query_params, pagination=pagination)
        self.method = check_method(method)
        check_shape_args(self, window=window, incremental=incremental, delta=delta, query_params=query_params)
        # Checked now, so a mistake fails when the DAG is parsed rather than at run time.
        Pager(
            pagination,
            self._fetch,
            records_path=records_path,
            max_pages=max_pages,
            max_concurrency=max_concurrency,
        )
        self.path = path
        self.destination = destination
        self.pagination = pagination
        self.records_path = records_path
        self.query_params = query_params
        self.headers = headers
        self.format = normalize_format(format)
        self.destination_conn_id = destination_conn_id
        self.max_pages = max_pages
        self.max_records_per_file = (
            None
            if max_records_per_file is None
            else positive_int(max_records_per_file, name="max_records_per_file")
        )
        self.max_concurrency = max_concurrency
        self.resource = resource
        self.scopes = scopes
        self.regionhalland_conn_id = regionhalland_conn_id
        self.parquet_row_group_size = positive_int(parquet_row_group_size, name="parquet_row_group_size")
        self.gzip_level = check_gzip_level(gzip_level)
        self.progress_interval = progress_interval
        self.window = window
        self.allow_empty_interval = allow_empty_interval
        self.http_retry = http_retry
        self.json = json
        self.data = data
        self.idempotent = idempotent
        self.incremental = incremental
        self.delta = delta
        self._landed: list[str] = []

    @cached_property
    def retry_stats(self) -> RetryStats:
        """Attempts and retries of this operator's calls (made when first used, not at parse time)."""
        return RetryStats()

    @cached_property
    def hook(self) -> RegionHallandHook:
        policy = dataclasses.replace(self.http_retry or RetryPolicy(), stats=self.retry_stats)
        if self.idempotent:
            policy = RepeatablePolicy.of(policy)
        return RegionHallandHook(
            self.regionhalland_conn_id, resource=self.resource, scopes=self.scopes, retry=policy
        )

    def target(self) -> ObjectStoragePath:
        """The rendered destination as an ``ObjectStoragePath`` with ``destination_conn_id``."""
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(self.destination, conn_id=self.destination_conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        self.log_window()
        target = self.target()
        protocol = target.protocol or "file"
        owner = TryIdentity.from_context(context)  # its temporaries are this try's alone
        sink = self._sink(target, owner)
        pager = Pager(
            bind_request(self.pagination, method=self.method, json=self.json, data=self.data),
            self._fetch,
            records_path=self.records_path,
            max_pages=self.max_pages,
            max_concurrency=self.max_concurrency,
        )
        progress = Progress(report=self.log.info, interval=self.progress_interval)
        self.log.info(
            "Pulling %s%s with %r into %s (%s).",
            self.hook.base_url,
            self.path.split("?", 1)[0],
            self.pagination,
            _url(protocol, target.path),
            self.format,
        )
        stats = self.retry_stats
        shaped: dict[str, Any] = {}
        try:
            if self.incremental is None and self.delta is None:
                summary = pull(
                    pager.pages(self.path, self.query_params),
                    sink,
                    progress,
                    destination=_url(protocol, target.path),
                    display=lambda path: _url(protocol, path),
                )
            else:
                summary, shaped = pull_shaped(
                    self,
                    previous_summary(context, self.task_id),
                    sink_factory=lambda: self._sink(target, owner),
                    progress_factory=lambda: Progress(report=self.log.info, interval=self.progress_interval),
                    destination=_url(protocol, target.path),
                    display=lambda path: _url(protocol, path),
                    mapped=getattr(context.get("ti"), "map_index", -1) not in (None, -1),
                )
        except BaseException:
            if stats.gave_up is not None:
                self.log.error(
                    "The pull failed after %d retries; the last call %s.", stats.retries, stats.gave_up
                )
            raise
        finally:
            self.hook.close()
        summary = dataclasses.replace(summary, retries=stats.retries, token_requests=stats.token_requests)
        if stats.retries:
            self.log.info(
                "Retries by cause: %s.", ", ".join(f"{k}: {v}" for k, v in sorted(stats.causes.items()))
            )
        self._landed = summary.paths
        self.log.info(summary.line())
        result = summary.as_dict()
        result.update(shaped)
        if self.run_window is not None:
            result["window"] = self.run_window.as_dict()
        self._send_asset_events(context, result)
        return result

    def _sink(self, target: ObjectStoragePath, owner: TryIdentity | None) -> RecordSink:
        return RecordSink(
            target.fs,
            target.path,
            fmt=self.format,
            max_records_per_file=self.max_records_per_file,
            row_group_size=self.parquet_row_group_size,
            gzip_level=self.gzip_level,
            destination=self.destination,
            owner=owner,
        )

    def _fetch(self, request: PageRequest) -> httpx.Response:
        return self.hook.request(
            request.method,
            request.url,
            params=request.params,
            headers=self.headers,
            json=request.json,
            data=request.data,
        )

    def _send_asset_events(self, context: Context, summary: dict[str, Any]) -> None:
        """Put the summary on each outlet asset's event, so consumers see what landed."""
        from airflow.sdk import Asset

        events = context.get("outlet_events")
        if events is None:  # ``execute`` called outside a task run
            return
        for outlet in self.outlets:
            if isinstance(outlet, Asset):
                events[outlet].extra = summary

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The API endpoint as input, the landed file(s) as output; ``None`` without OpenLineage."""
        try:
            from airflow.providers.openlineage.extractors import OperatorLineage
            from openlineage.client.event_v2 import Dataset
        except ImportError:
            return None
        namespace, name = api_dataset(self.hook.base_url, self.path)
        landed = self._landed or [_url(self.target().protocol or "file", self.target().path)]
        outputs = [Dataset(namespace=ns, name=key) for ns, key in map(storage_dataset, landed)]
        return OperatorLineage(inputs=[Dataset(namespace=namespace, name=name)], outputs=outputs)


def _url(protocol: str, path: str) -> str:
    """``s3://bucket/key`` or ``file:///abs/path`` from an fsspec protocol and path."""
    if protocol in ("file", "local"):
        return f"file://{path}" if path.startswith("/") else f"file:///{path}"
    return f"{protocol}://{path}"
