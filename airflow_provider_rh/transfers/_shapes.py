"""Pulls that carry state from one run to the next: a high-water mark, a delta link.

The state is in the run's XCom summary (and so in its asset events); the next run reads the
summary of the latest earlier run of the same task (and map index) that returned one, through
Airflow's XCom API, so it works wherever the task runs (Celery, Kubernetes): nothing is kept on
a worker's disk. A task that failed returned nothing, so the run after it starts from the last
success: a failed run never moves the mark.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from airflow_provider_rh.exceptions import ApiError, ConfigurationError
from airflow_provider_rh.incremental import MAX_MARK_KEYS, DeltaLink, Incremental, MarkTracker
from airflow_provider_rh.pagination import Page, Pager, Pagination
from airflow_provider_rh.pagination._body import bind_request
from airflow_provider_rh.transfers._progress import Progress, PullSummary
from airflow_provider_rh.transfers._pull import pull
from airflow_provider_rh.transfers._sink import RecordSink

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_rh.transfers.api_to_storage import RegionHallandApiToStorageOperator


def check_shape_args(task: Any, *, window: Any, incremental: Any, delta: Any, query_params: Any) -> None:
    """Fail at parse time on a combination that cannot work."""
    if incremental is not None and not isinstance(incremental, Incremental):
        raise ConfigurationError(
            f"incremental must be an airflow_provider_rh.incremental.Incremental, got {incremental!r}.",
            field="incremental",
        )
    if delta is not None and not isinstance(delta, DeltaLink):
        raise ConfigurationError(
            f"delta must be an airflow_provider_rh.incremental.DeltaLink, got {delta!r}.", field="delta"
        )
    given = [
        name for name, value in (("window", window), ("incremental", incremental), ("delta", delta)) if value
    ]
    if len(given) > 1:
        raise ConfigurationError(
            f"Give one of window, incremental and delta, not {' and '.join(given)}: each decides on its "
            "own what a run asks for.",
            field=given[1],
        )
    if (incremental is not None or delta is not None) and not getattr(task, "do_xcom_push", True):
        raise ConfigurationError(
            f"{given[0]}= keeps its state in the task's XCom summary, so do_xcom_push must stay True.",
            field="do_xcom_push",
        )
    if (
        isinstance(incremental, Incremental)
        and isinstance(query_params, Mapping)
        and incremental.param in query_params
    ):
        raise ConfigurationError(
            f"query_params sets {incremental.param}, which {incremental!r} sets for each run; remove "
            "it from query_params.",
            field="query_params",
        )


def previous_summary(context: Context, task_id: str) -> Mapping[str, Any] | None:
    """The XCom summary of the latest earlier run of this task (this map index) that succeeded.

    Airflow clears a task's XComs when it starts a try, and pushes the summary only when the
    task returns, so what is found belongs to an earlier run (by logical date) that landed.
    """
    ti = context.get("ti")
    if ti is None:
        return None
    value = ti.xcom_pull(
        task_ids=task_id,
        key="return_value",
        include_prior_dates=True,
        map_indexes=getattr(ti, "map_index", -1),
    )
    return value if isinstance(value, Mapping) else None


def pull_shaped(
    task: RegionHallandApiToStorageOperator,
    previous: Mapping[str, Any] | None,
    *,
    sink_factory: Callable[[], RecordSink],
    progress_factory: Callable[[], Progress],
    destination: str,
    display: Callable[[str], str],
    mapped: bool = False,
) -> tuple[PullSummary, dict[str, Any]]:
    """Pull with ``task.incremental`` or ``task.delta``; the summary and the state for the next run.

    ``mapped``: the task is one instance of a mapped task (its inputs tell it from the others).
    """

    def run(
        pagination: Pagination, path: str, params: Any, pages: Callable[[Iterable[Page]], Iterator[Page]]
    ) -> PullSummary:
        pager = Pager(
            pagination,
            task._fetch,
            records_path=task.records_path,
            max_pages=task.max_pages,
            max_concurrency=task.max_concurrency,
        )
        return pull(
            pages(pager.pages(path, params)),
            sink_factory(),
            progress_factory(),
            destination=destination,
            display=display,
        )

    if previous and previous.get("destination") == destination:
        task.log.warning(
            "This run lands at %s, where the last successful run landed: a %s pull lands only what "
            "changed, so that run's records are replaced. Give destination a per-run part "
            "(e.g. '{{ ts_nodash }}') unless something reads the file between runs.",
            destination,
            "incremental" if task.incremental is not None else "delta",
        )
    if task.incremental is not None:
        return _incremental(task, task.incremental, previous, run, mapped=mapped)
    assert task.delta is not None
    return _delta(task, task.delta, previous, run)


def _incremental(
    task: RegionHallandApiToStorageOperator,
    spec: Incremental,
    previous: Mapping[str, Any] | None,
    run: Callable[..., PullSummary],
    *,
    mapped: bool,
) -> tuple[PullSummary, dict[str, Any]]:
    params = dict(task.query_params or {})
    body = task.json
    scope = _scope(task, spec, params, body, mapped=mapped)
    start, source = spec.start((previous or {}).get("incremental"), scope)
    if "last run's mark was for" in source:
        task.log.warning(
            "Not starting from the last successful run's mark: %s. Expected after a change to the "
            "connection, resource or path (or, for a mapped task, to its inputs or their order): a "
            "mark of another request could skip records of this one.",
            source,
        )
    value = spec.rendered(start)
    if value is not None and spec.param is not None:
        params[spec.param] = value
    elif value is not None and spec.body_path is not None:
        body = _with(body, spec.body_path, value)
    task.log.info(
        "Incremental by %s: from %s (%s).",
        spec.field,
        "everything" if value is None else repr(value),
        source,
    )
    tracker = spec.tracker(start)
    pagination = bind_request(task.pagination, method=task.method, json=body, data=task.data)
    summary = run(pagination, task.path, params, lambda pages: _tracked(pages, tracker))
    mark = tracker.mark()
    if tracker.dropped:
        task.log.info("Dropped %d records the last run landed at the mark.", tracker.dropped)
    if tracker.below:
        task.log.warning(
            "Dropped %d records older than the mark %r: the API served them although %s asked from "
            "the mark. Either it ignores that parameter (they were landed before) or their %s went "
            "back in time (then they were not): check the API's filter.",
            tracker.below,
            start.value if start else None,
            spec.param or spec.body_path,
            spec.field,
        )
    if mark is not None and mark.overflow:
        task.log.warning(
            "More than %d records share the mark %r of %s: too many to remember, so the next run "
            "lands all records at the mark again (duplicates, none lost). A finer field (a "
            "timestamp with fractions of a second, a row version) avoids them.",
            MAX_MARK_KEYS,
            mark.value,
            spec.field,
        )
    task.log.info("The mark is now %r.", None if mark is None else mark.value)
    state = {
        "field": spec.field,
        "scope": scope,
        "mark": None if mark is None else mark.as_dict(),
        "from": None if start is None else start.value,
        "source": source,
        "dropped": tracker.dropped,
        "below_mark": tracker.below,
    }
    return summary, {"incremental": state}


def _delta(
    task: RegionHallandApiToStorageOperator,
    spec: DeltaLink,
    previous: Mapping[str, Any] | None,
    run: Callable[..., PullSummary],
) -> tuple[PullSummary, dict[str, Any]]:
    link = ((previous or {}).get("delta") or {}).get("link")
    found: list[str] = []

    def watched(pages: Iterable[Page]) -> Iterator[Page]:
        for page in pages:
            delta = spec.link(page.body)
            if delta is not None:
                found.append(delta)
            yield page

    full = bind_request(task.pagination, method=task.method, json=task.json, data=task.data)
    expired = False
    if link:
        task.log.info("Following the delta link of the last successful run.")
        try:
            # The link's query as parameters: a first request's (empty) params would replace it.
            url = httpx.URL(link)
            get = bind_request(task.pagination, method="GET", json=None, data=None)
            summary = run(get, str(url.copy_with(query=None)), dict(url.params.multi_items()), watched)
            source = "delta link"
        except ApiError as exc:
            if not spec.expired(exc.status_code, exc.body_excerpt):
                raise
            task.log.warning(
                "The delta link has expired (HTTP %d): reading everything again for a new one.",
                exc.status_code,
            )
            found.clear()
            expired = True
    if not link or expired:
        summary = run(full, task.path, task.query_params, watched)
        source = "full re-read, the delta link had expired" if expired else "full read"
    if not found:
        task.log.warning(
            "No page had a delta link at %r: the next run reads everything again. Check link_path.",
            spec.link_path,
        )
    return summary, {"delta": {"link": found[-1] if found else None, "source": source}}


def _tracked(pages: Iterable[Page], tracker: MarkTracker) -> Iterator[Page]:
    """The pages with what the last run landed at the mark dropped; the mark moves as they pass."""
    from dataclasses import replace

    from airflow_provider_rh.core.jsonl import LinedRecords

    for page in pages:
        kept = tracker.filter(page.records)
        yield page if kept is None else replace(page, records=LinedRecords(list(kept)))


def _scope(
    task: RegionHallandApiToStorageOperator,
    spec: Incremental,
    params: Mapping[str, Any],
    body: Any,
    *,
    mapped: bool,
) -> str:
    """A digest of the request a mark belongs to: the API and path, and a mapped task's inputs.

    An unmapped task keeps its mark when its parameters change (a per-run template, a new
    page size); a mapped task's instances differ by their inputs, so those are part of it.
    """
    request: dict[str, Any] = {
        "conn": task.regionhalland_conn_id,
        "resource": task.resource,
        "method": task.method,
        "path": task.path,
    }
    if mapped:
        request["params"] = {k: v for k, v in params.items() if k != spec.param}
        request["json"] = body
        request["data"] = task.data
    encoded = json.dumps(request, sort_keys=True, default=repr, separators=(",", ":")).encode()
    return hashlib.blake2b(encoded, digest_size=8).hexdigest()


def _with(body: Any, path: Any, value: Any) -> dict[str, Any]:
    if body is not None and not isinstance(body, Mapping):
        raise ConfigurationError(
            f"Incremental(body_path=...) needs json to be an object, got {type(body).__name__}.", field="json"
        )
    result: dict[str, Any] = copy.deepcopy(dict(body or {}))
    keys = path.split(".") if isinstance(path, str) else list(path)
    node = result
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConfigurationError(
                f"Cannot put the mark at {'.'.join(keys)}: {key} in json is not an object.", field="json"
            )
        node = child
    node[keys[-1]] = value
    return result
