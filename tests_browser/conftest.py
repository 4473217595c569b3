"""A real Airflow api-server, the sandbox and Debian's Chromium, for the connection form test.

Not under ``tests/``: it needs a browser (``scripts/ci/install-browser.sh``) and takes a minute,
so it runs as its own step, ``make browser-test``. Everything listens on 127.0.0.1 on free ports;
every wait has an upper bound; on failure the page's HTML, a screenshot and the api-server's log
land in the artifacts folder (``RH_BROWSER_ARTIFACTS``, default a fresh temporary folder).
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_rh.sandbox.server import parse_connection_env_line

CHROMIUM = os.environ.get("RH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("RH_CHROMEDRIVER", "/usr/bin/chromedriver")
BIN = Path(sys.executable).parent
API_SERVER_START_TIMEOUT = 300.0
SANDBOX_START_TIMEOUT = 60.0
#: One worker and only the core API (the UI's backend): less to start on a busy machine.
SERVER_ARGS = ("--workers", "1", "--apps", "core")
#: Flags without which headless Chromium hangs or phones home on a machine with no network.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1100",
)


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> None:
    if call.when == "call":
        item.stash[_FAILED] = call.excinfo is not None


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots, page dumps and logs; kept after the run."""
    folder = Path(os.environ.get("RH_BROWSER_ARTIFACTS") or tempfile.mkdtemp(prefix="rh-browser-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"browser test artifacts: {folder}")
    return folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM the process group we started (api-server workers included), then SIGKILL."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``rh-sandbox`` as a user starts it; yields the connection it prints."""
    proc = subprocess.Popen(
        [str(BIN / "rh-sandbox"), "--port", "0", "--state-dir", str(tmp_path_factory.mktemp("sandbox"))],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = proc.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    connection: dict[str, Any] | None = None
    try:
        deadline = time.monotonic() + SANDBOX_START_TIMEOUT
        while connection is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or proc.poll() is not None:
                raise RuntimeError("rh-sandbox did not print its connection")
            try:
                connection = parse_connection_env_line(lines.get(timeout=min(remaining, 1.0)).strip())
            except queue.Empty:
                continue
        yield connection
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[str]:
    """``airflow api-server`` on a migrated SQLite database, every user an admin; yields its URL."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API_AUTH__JWT_SECRET": "browser-test-only-" + os.urandom(8).hex(),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], check=True, capture_output=True, timeout=300, env=env
    )
    port = _free_port()
    log_path = artifacts / "api-server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(BIN / "airflow"), "api-server", "--host", "127.0.0.1", "--port", str(port), *SERVER_ARGS],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + API_SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"airflow api-server exited early; see {log_path}")
            try:
                if httpx.get(f"{url}/api/v2/monitor/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"airflow api-server not up after {API_SERVER_START_TIMEOUT:.0f} s")
            time.sleep(1)
        yield url
    finally:
        _stop(proc)


@pytest.fixture
def driver(request: pytest.FixtureRequest, artifacts: Path, tmp_path: Path) -> Iterator[Any]:
    """Debian's Chromium through its own chromedriver; Selenium Manager is never asked."""
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.fail(f"{CHROMIUM} / {CHROMEDRIVER} missing: run scripts/ci/install-browser.sh first")
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    service = Service(executable_path=CHROMEDRIVER, log_output=str(artifacts / "chromedriver.log"))
    browser = webdriver.Chrome(service=service, options=options)
    browser.set_page_load_timeout(120)
    try:
        yield browser
    finally:
        if request.node.stash.get(_FAILED, True):
            name = request.node.name
            try:
                browser.save_screenshot(str(artifacts / f"FAILED-{name}.png"))
                (artifacts / f"FAILED-{name}.html").write_text(browser.page_source)
            finally:
                log = artifacts / "api-server.log"
                tail = log.read_text(errors="replace").splitlines()[-80:] if log.exists() else []
                print(f"--- failure dump in {artifacts}; api-server log tail:", *tail, sep="\n")
        browser.quit()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)
