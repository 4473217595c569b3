"""A failed concurrent pull leaves at once: pages still in flight are abandoned, never joined."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from typing import Any

import httpx
import pytest

from airflow_provider_rh.exceptions import PaginationError
from airflow_provider_rh.pagination import OffsetPagination, Pager, PageRequest


class HangingApi:
    """Page 1 says 50 records; page 2 is not JSON; page 3 hangs until released; others answer."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.hanging = threading.Event()
        self.asked: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, request: PageRequest) -> httpx.Response:
        number = int((request.params or {}).get("offset", 0)) // 5 + 1
        with self.lock:
            self.asked.append(number)
        url = f"https://api.example.se{request.url}"
        if number == 2:
            return httpx.Response(200, text="<html>down</html>", request=httpx.Request("GET", url))
        if number == 3:
            self.hanging.set()
            self.release.wait(60)  # a safety bound: the test releases it
        items = [{"id": (number - 1) * 5 + i} for i in range(1, 6)]
        return httpx.Response(200, json={"items": items, "total": 50}, request=httpx.Request("GET", url))


def test_a_failed_page_ends_the_pull_while_another_page_still_hangs() -> None:
    api = HangingApi()
    pager = Pager(OffsetPagination(5, total_path="total"), api, records_path="items", max_concurrency=3)
    pages = pager.pages("/units")
    assert next(pages).number == 1
    hung: list[threading.Thread] = []
    try:
        with pytest.raises(PaginationError, match="Page 2 .* is not JSON"):
            next(pages)  # starts pages 2, 3 and 4; page 2 fails
        pages.close()
        assert api.hanging.wait(30)  # page 3 is stuck in flight
        # The error came, and the pager is closed, while page 3 is still stuck: nothing waited.
        assert not api.release.is_set()
        hung = [thread for thread in threading.enumerate() if thread.name == "rh-page-3"]
        assert len(hung) == 1
        assert hung[0].daemon  # the interpreter's exit does not join it
        assert set(api.asked) <= {1, 2, 3, 4}  # no page was started after the failure
    finally:
        api.release.set()
        for thread in hung:
            thread.join(30)


def test_a_python_process_whose_pull_failed_exits_with_a_page_hung_forever() -> None:
    """The same in a fresh interpreter, with page 3 never released: it exits (joining it never would)."""
    script = textwrap.dedent(
        """
        import threading, httpx
        from airflow_provider_rh.exceptions import PaginationError
        from airflow_provider_rh.pagination import OffsetPagination, Pager
        forever = threading.Event()
        def fetch(request):
            number = int(request.params["offset"]) // 5 + 1
            req = httpx.Request("GET", "https://api.example.se/units")
            if number == 2:
                return httpx.Response(200, text="down", request=req)
            if number == 3:
                forever.wait()
            return httpx.Response(200, json={"items": [{"id": number}] * 5, "total": 50}, request=req)
        pager = Pager(OffsetPagination(5, total_path="total"), fetch, records_path="items", max_concurrency=3)
        try:
            list(pager.pages("/units"))
        except PaginationError:
            print("failed as expected")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "failed as expected"


def fetch_all(api: Any) -> list[int]:
    pager = Pager(OffsetPagination(5, total_path="total"), api, records_path="items", max_concurrency=4)
    return [record["id"] for page in pager.pages("/units") for record in page.records]


def test_a_pull_without_failures_still_comes_out_whole_and_in_order() -> None:
    def fetch(request: PageRequest) -> httpx.Response:
        offset = int((request.params or {})["offset"])
        items = [{"id": offset + i} for i in range(1, 6)]
        return httpx.Response(
            200, json={"items": items, "total": 50}, request=httpx.Request("GET", "https://x.se/units")
        )

    assert fetch_all(fetch) == list(range(1, 51))
