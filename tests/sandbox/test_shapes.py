"""The sandbox's other API shapes: a POST search with paging in the body, OData with delta links,
and records that change between pulls, under the test's control."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from airflow_provider_rh.sandbox import Sandbox

from .helpers import Caller, start_sandbox

pytestmark = pytest.mark.integration
COUNT = 60
MAX_PAGES = 20


@pytest.fixture
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox per test: the tests change its records."""
    sandbox = start_sandbox(tmp_path_factory.mktemp("state"), unit_count=COUNT)
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def call(sb: Sandbox, http: httpx.Client) -> Any:
    caller = Caller(sb, http)
    token = caller.token()
    headers = {"Ocp-Apim-Subscription-Key": sb.subscription_key, "Authorization": f"Bearer {token}"}

    def call(method: str, path_or_url: str, **kwargs: Any) -> httpx.Response:
        url = path_or_url if "://" in path_or_url else sb.base_url + path_or_url
        return http.request(method, url, headers=headers, **kwargs)

    return call


def search_all(call: Any, flt: dict[str, Any], limit: int = 25) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in range(MAX_PAGES):
        body = {"filter": flt, "paging": {"offset": page * limit, "limit": limit}}
        answer = call("POST", "/search/units", json=body)
        assert answer.status_code == 200, answer.text
        found += answer.json()["results"]
        if len(found) >= answer.json()["total"]:
            return found
    raise AssertionError("search never ended")


def follow(call: Any, first: str, **params: Any) -> tuple[list[dict[str, Any]], str]:
    """Every record from ``first`` by next links, and the delta link of the last page."""
    if "://" in first:  # a link keeps its own query; httpx's params= would replace it
        first, params = str(httpx.URL(first).copy_merge_params(params)), {}
    answer = call("GET", first, params=params or None)
    records: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        assert answer.status_code == 200, answer.text
        body = answer.json()
        records += body["value"]
        if "@odata.nextLink" not in body:
            return records, body["@odata.deltaLink"]
        answer = call("GET", body["@odata.nextLink"])
    raise AssertionError("next links never ended")


def test_search_pages_by_offset_in_the_body_and_filters_by_modified(call: Any, sb: Sandbox) -> None:
    every = search_all(call, {})
    assert [r["id"] for r in every] == list(range(1, COUNT + 1))
    since = every[20]["modified"]
    later = search_all(call, {"modifiedFrom": since, "modifiedBefore": every[30]["modified"]}, limit=4)
    assert [r["id"] for r in later] == list(range(21, 31))
    assert call("GET", "/search/units").status_code == 405


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"paging": {"offset": -1}}, "paging.offset"),
        ({"paging": {"limit": 5000}}, "paging.limit"),
        ({"filter": {"modifiedFrom": "yesterday"}}, "filter.modifiedFrom"),
        ({"filter": []}, "filter"),
    ],
)
def test_search_refuses_a_bad_body_naming_the_field(call: Any, body: dict[str, Any], named: str) -> None:
    answer = call("POST", "/search/units", json=body)
    assert answer.status_code == 400
    assert named in answer.json()["message"]


def test_changes_update_old_records_and_add_new_ones_with_one_stamp(call: Any, sb: Sandbox) -> None:
    before = {r["id"]: r for r in search_all(call, {})}
    change = call("POST", "/shapes/admin/changes", json={"update": [3, 40], "add": 2}).json()
    assert change["updated"] == [3, 40]
    assert change["added"] == [COUNT + 1, COUNT + 2]
    assert change["stamp"] > before[COUNT]["modified"]
    after = search_all(call, {"modifiedFrom": change["stamp"]})
    assert [(r["id"], r["version"]) for r in after] == [(3, 2), (40, 2), (COUNT + 1, 1), (COUNT + 2, 1)]
    assert {r["modified"] for r in after} == {change["stamp"]}
    # A stamp given by the test: records can share an earlier record's value.
    again = sb.shapes.change(update=[5], at=_parse(change["stamp"]))
    assert again["stamp"] == change["stamp"]
    # A change sent twice with one "once" key (a retried task) is applied once.
    once = [call("POST", "/shapes/admin/changes", json={"update": [6], "once": "run-1"}).json() for _ in "ab"]
    assert once[0] == once[1]
    assert [r["version"] for r in sb.shapes.records() if r["id"] == 6] == [2]


def test_odata_filters_pages_counts_and_hands_out_a_delta_link(call: Any, sb: Sandbox) -> None:
    records = sb.shapes.records()
    low, high = records[9]["modified"], records[19]["modified"]
    found, delta = follow(
        call, "/odata/Units", **{"$filter": f"Modified ge {low} and Modified lt {high}", "$top": 3}
    )
    assert [r["Id"] for r in found] == list(range(10, 20))
    assert set(found[0]) == {"Id", "Name", "UnitType", "MunicipalityCode", "Modified", "Version"}
    counted = call("GET", "/odata/Units", params={"$count": "true", "$top": 7, "$skip": 7}).json()
    assert counted["@odata.count"] == COUNT
    assert [r["Id"] for r in counted["value"]] == list(range(8, 15))

    assert follow(call, delta) == ([], delta)  # nothing changed yet: no records, the same link
    change = sb.shapes.change(update=[1, 50], add=1)
    changed, newer = follow(call, delta, **{"$top": 2})
    assert [(r["Id"], r["Version"]) for r in changed] == [(1, 2), (50, 2), (COUNT + 1, 1)]
    assert {r["Modified"] for r in changed} == {change["stamp"]}
    assert newer != delta
    assert follow(call, newer)[0] == []


def test_a_delta_link_expires_with_410_and_a_code(call: Any, sb: Sandbox) -> None:
    _, delta = follow(call, "/odata/Units", **{"$top": 100})
    sb.shapes.expire_delta_links()
    answer = call("GET", delta)
    assert answer.status_code == 410
    assert answer.json()["error"]["code"] == "resyncRequired"
    _, fresh = follow(call, "/odata/Units", **{"$top": 100})
    assert call("GET", fresh).status_code == 200
    assert call("POST", "/shapes/admin/expire-delta-links").status_code == 200
    assert call("GET", fresh).status_code == 410


@pytest.mark.parametrize(
    "params",
    [
        {"$filter": "Name eq 'x'"},
        {"$filter": "Modified ge tomorrow"},
        {"$filter": "Modified ge 2026-01-01T00:00:00Z or Modified lt 2026-01-02T00:00:00Z"},
        {"$filter": "Modified ge 2026-01-01T00:00:00Z and " * 100},
        {"$top": "0"},
        {"$skip": "-3"},
    ],
)
def test_odata_refuses_what_it_cannot_read_as_an_odata_error(call: Any, params: dict[str, str]) -> None:
    answer = call("GET", "/odata/Units", params=params)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BadRequest"


def test_a_forged_delta_token_is_a_400(call: Any) -> None:
    for token in ("nope", "e30", "x" * 500):
        assert call("GET", "/odata/Units/delta", params={"$deltatoken": token}).status_code == 400


def _parse(text: str) -> Any:
    import datetime as dt

    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
