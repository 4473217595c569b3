"""One call to a Region Halland API, its (small) JSON answer pushed to XCom."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_rh._arguments import check_arguments
from airflow_provider_rh._windowing import WindowedMixin, check_window_args
from airflow_provider_rh.exceptions import PayloadTooLargeError
from airflow_provider_rh.hooks.regionhalland import RegionHallandHook

if TYPE_CHECKING:
    import httpx
    from airflow.sdk import Context

    from airflow_provider_rh.windows import TimeWindow

#: XCom lives in the metadata database and every reader (downstream tasks, the UI) loads it
#: whole; 256 KiB holds a record or a page of a few hundred small ones, while a bulk pull
#: belongs in object storage (``RegionHallandApiToStorageOperator``).
DEFAULT_MAX_XCOM_BYTES = 256 * 1024


def response_payload(response: httpx.Response) -> Any:
    """The parsed JSON body; ``None`` for an empty body, the text for a body that is not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def xcom_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON, about what XCom stores."""
    return len(jsonlib.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode())


class RegionHallandApiOperator(WindowedMixin, BaseOperator):
    """Call a Region Halland API once and push the JSON answer to XCom.

    The token and subscriber key are added per request and never reach XCom or the logs; only
    the (optionally filtered) body is pushed. A body above ``max_xcom_bytes`` fails the task
    with :class:`~airflow_provider_rh.exceptions.PayloadTooLargeError` instead of flooding the
    metadata database. ``query_params`` is the URL query (``params`` is Airflow's DAG params).
    ``window=TimeWindow(...)`` adds each run's time window to the query (and ``window_start``/
    ``window_end`` to templates); a query that reads an empty data interval is refused unless
    ``allow_empty_interval=True`` (see :mod:`airflow_provider_rh.windows`).

    .. code-block:: python

        unit = RegionHallandApiOperator(
            task_id="unit",
            path="/units/{{ params.unit_id }}",
            response_filter=lambda body: {"id": body["id"], "name": body["name"]},
        )
    """

    template_fields: Sequence[str] = (
        "path",
        "query_params",
        "headers",
        "json",
        "data",
        "resource",
        "scopes",
    )
    template_fields_renderers = {"query_params": "json", "headers": "json", "json": "json", "data": "json"}
    ui_color = "#e3f1e9"

    def __init__(
        self,
        *,
        path: str,
        method: str = "GET",
        query_params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        resource: str | None = None,
        scopes: str | list[str] | None = None,
        response_filter: Callable[[Any], Any] | None = None,
        max_xcom_bytes: int = DEFAULT_MAX_XCOM_BYTES,
        regionhalland_conn_id: str = RegionHallandHook.default_conn_name,
        window: TimeWindow | None = None,
        allow_empty_interval: bool = False,
        **kwargs: Any,
    ) -> None:
        check_arguments(  # by type and range when the DAG is parsed
            type(self).__name__,
            path=path,
            method=method,
            query_params=query_params,
            headers=headers,
            data=data,
            resource=resource,
            scopes=scopes,
            response_filter=response_filter,
            max_xcom_bytes=max_xcom_bytes,
            regionhalland_conn_id=regionhalland_conn_id,
            allow_empty_interval=allow_empty_interval,
        )
        super().__init__(**kwargs)
        check_window_args(window, query_params)
        self.window = window
        self.allow_empty_interval = allow_empty_interval
        self.path = path
        self.method = method.upper()
        self.query_params = query_params
        self.headers = headers
        self.json = json
        self.data = data
        self.resource = resource
        self.scopes = scopes
        self.response_filter = response_filter
        self.max_xcom_bytes = max_xcom_bytes
        self.regionhalland_conn_id = regionhalland_conn_id

    @cached_property
    def hook(self) -> RegionHallandHook:
        return RegionHallandHook(self.regionhalland_conn_id)

    def execute(self, context: Context) -> Any:
        self.log_window()
        response = self.hook.request(
            self.method,
            self.path,
            params=self.query_params,
            headers=self.headers,
            json=self.json,
            data=self.data,
            resource=self.resource,
            scopes=self.scopes,
        )
        url = response.request.url.copy_with(query=None)
        payload = response_payload(response)
        if self.response_filter is not None:
            payload = self.response_filter(payload)
        if not self.do_xcom_push:
            self.log.info("%s %s answered %s.", self.method, url, response.status_code)
            return None
        size = xcom_size(payload)
        if size > self.max_xcom_bytes:
            raise PayloadTooLargeError(
                f"The answer to {self.method} {url} is {size} bytes as JSON, more than "
                f"max_xcom_bytes={self.max_xcom_bytes} lets into XCom (which lives in Airflow's "
                "metadata database). Keep only what downstream tasks need with response_filter, raise "
                "max_xcom_bytes if you are sure, or use RegionHallandApiToStorageOperator to land the "
                "data in object storage.",
                size=size,
                limit=self.max_xcom_bytes,
            )
        self.log.info(
            "%s %s answered %s; pushing %d bytes to XCom.", self.method, url, response.status_code, size
        )
        return payload
