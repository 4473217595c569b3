"""Every pagination style serves exactly the records of :mod:`.data`, in order, and filters by time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from airflow_provider_rh.sandbox import Sandbox
from airflow_provider_rh.sandbox.data import unit, units

from .helpers import UNIT_COUNT, Caller

pytestmark = pytest.mark.integration
LIMIT = 50
MAX_PAGES = 20  # 237 records / 50 = 5 pages; a runaway loop fails instead of hanging


@pytest.fixture(scope="module")
def token(sb: Sandbox) -> str:
    with httpx.Client(timeout=10) as http:
        return Caller(sb, http).token()


@pytest.fixture
def get(caller: Caller, token: str) -> Callable[..., httpx.Response]:
    def get(path: str = "", *, url: str | None = None, **params: Any) -> httpx.Response:
        response = caller.api(path, token=token, url=url, params=params or None)
        assert response.status_code == 200, response.text
        return response

    return get


def walk_next(get: Callable[..., httpx.Response], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    body = get("/units", limit=LIMIT, **params).json()
    for _ in range(MAX_PAGES):
        items += body["items"]
        if body["next"] is None:
            return items
        body = get(url=body["next"]).json()
    raise AssertionError("too many pages")


def walk_link(get: Callable[..., httpx.Response], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    response = get("/units/link", limit=LIMIT, **params)
    for _ in range(MAX_PAGES):
        items += response.json()
        if "next" not in response.links:
            return items
        response = get(url=response.links["next"]["url"])
    raise AssertionError("too many pages")


def walk_cursor(get: Callable[..., httpx.Response], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    body = get("/units/cursor", limit=LIMIT, **params).json()
    for _ in range(MAX_PAGES):
        items += body["items"]
        if body["cursor"] is None:
            return items
        body = get("/units/cursor", limit=LIMIT, cursor=body["cursor"], **params).json()
    raise AssertionError("too many pages")


def walk_offset(get: Callable[..., httpx.Response], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        body = get("/units/offset", offset=len(items), limit=LIMIT, **params).json()
        items += body["items"]
        if len(items) >= body["total"]:
            return items
    raise AssertionError("too many pages")


def walk_offset_without_count(get: Callable[..., httpx.Response], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        body = get("/units/offset", offset=len(items), limit=LIMIT, count="false", **params).json()
        assert "total" not in body
        items += body["items"]
        if len(body["items"]) < LIMIT:
            return items
    raise AssertionError("too many pages")


def walk_pages(get: Callable[..., httpx.Response], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in range(1, MAX_PAGES):
        body = get("/units/pages", page=page, pageSize=LIMIT, **params).json()
        assert (body["page"], body["pageSize"]) == (page, LIMIT)
        items += body["items"]
        if page * LIMIT >= body["totalCount"]:
            return items
    raise AssertionError("too many pages")


def walk_odata(get: Callable[..., httpx.Response], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    body = get("/units/odata", **{"$top": LIMIT}, **params).json()
    for _ in range(MAX_PAGES):
        items += body["value"]
        if "@odata.nextLink" not in body:
            return items
        body = get(url=body["@odata.nextLink"]).json()
    raise AssertionError("too many pages")


WALKS = [walk_next, walk_link, walk_cursor, walk_offset, walk_offset_without_count, walk_pages, walk_odata]


@pytest.mark.parametrize("walk", WALKS, ids=lambda walk: walk.__name__)
def test_every_style_returns_every_record_in_order(walk: Callable[..., Any], get: Callable[..., Any]) -> None:
    assert walk(get) == list(units(UNIT_COUNT))


@pytest.mark.parametrize("walk", WALKS, ids=lambda walk: walk.__name__)
@pytest.mark.parametrize("zone", ["Z", "+00:00"])
def test_filters_select_a_contiguous_id_range(
    walk: Callable[..., Any], get: Callable[..., Any], zone: str
) -> None:
    since = unit(40)["updated"].replace("Z", zone)
    before = unit(190)["updated"].replace("Z", zone)

    items = walk(get, updatedSince=since, updatedBefore=before)

    assert [item["id"] for item in items] == list(range(40, 190))


def test_a_filter_between_records_rounds_correctly(get: Callable[..., httpx.Response]) -> None:
    body = get(
        "/units/offset", updatedSince="2026-01-01T00:07:00Z", updatedBefore="2026-01-01T00:20:01Z"
    ).json()

    assert [item["id"] for item in body["items"]] == [2, 3, 4]
    assert body["total"] == 3


def test_links_use_the_host_the_client_called(caller: Caller, token: str, sb: Sandbox) -> None:
    headers = {"Host": "gateway.example.test:8443", "Ocp-Apim-Subscription-Key": sb.subscription_key}
    headers["Authorization"] = f"Bearer {token}"

    response = caller.http.get(
        f"{sb.base_url}/units", params={"limit": 10, "updatedSince": "2026-01-01T00:00:00Z"}, headers=headers
    )

    next_url = httpx.URL(response.json()["next"])
    assert (next_url.host, next_url.port, next_url.path) == (
        "gateway.example.test",
        8443,
        "/hsainfo/v1/units",
    )
    assert next_url.params["limit"] == "10"
    assert next_url.params["updatedSince"] == "2026-01-01T00:00:00Z"


def test_one_record_by_id(get: Callable[..., httpx.Response], caller: Caller, token: str) -> None:
    assert get("/units/7").json() == unit(7)
    for missing in (0, UNIT_COUNT + 1, "abc"):
        response = caller.api(f"/units/{missing}", token=token)
        assert response.status_code == 404
        assert response.json()["statusCode"] == 404


def test_a_page_past_the_end_is_empty(get: Callable[..., httpx.Response]) -> None:
    body = get("/units/pages", page=99, pageSize=LIMIT, withTotal="false").json()

    assert body == {"items": [], "page": 99, "pageSize": LIMIT}


def test_limit_defaults_to_100(get: Callable[..., httpx.Response]) -> None:
    assert len(get("/units").json()["items"]) == 100


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/units", {"limit": 0}, "limit"),
        ("/units", {"limit": 1001}, "limit"),
        ("/units", {"limit": "ten"}, "limit"),
        ("/units/link", {"after": -1}, "after"),
        ("/units/cursor", {"cursor": "not-a-cursor"}, "cursor"),
        ("/units/offset", {"count": "maybe"}, "count"),
        ("/units/pages", {"page": 0}, "page"),
        ("/units/pages", {"pageSize": 5000}, "pageSize"),
        ("/units/odata", {"$top": 0}, "$top"),
        ("/units", {"updatedSince": "yesterday"}, "updatedSince"),
        ("/units/offset", {"updatedBefore": "2026-01-01T00:00:00"}, "updatedBefore"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(
    caller: Caller, token: str, path: str, params: dict[str, Any], parameter: str
) -> None:
    response = caller.api(path, token=token, params=params)

    assert response.status_code == 400
    assert response.json()["parameter"] == parameter
    assert parameter in response.json()["message"]


def test_an_unencoded_plus_gets_a_hint(caller: Caller, token: str, sb: Sandbox) -> None:
    url = f"{sb.base_url}/units?updatedSince=2026-01-01T00:00:00+00:00"  # '+' arrives as a space

    response = caller.api("", token=token, url=url)

    assert response.status_code == 400
    assert "%2B" in response.json()["message"]


def test_stats_count_api_requests_per_route(get: Callable[..., httpx.Response], sb: Sandbox) -> None:
    before = sb.stats.api_requests

    get("/units/5")
    get("/units/odata")

    after = sb.stats.api_requests
    assert after["/units/{id}"] == before.get("/units/{id}", 0) + 1
    assert after["/units/odata"] == before.get("/units/odata", 0) + 1
