"""One sandbox worker process for the fault suite; each scenario starts its own sandbox in it."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

REPO = Path(__file__).resolve().parents[2]
#: Upper safety bound for one reply (a sandbox start or a stats read); normally milliseconds.
REPLY_TIMEOUT = 120.0


class SandboxWorker:
    """Talks to ``tests/reliability/sandbox_worker.py`` in its own process (see its docstring)."""

    def __init__(self, state_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.sandbox_worker", str(state_dir)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._replies: queue.Queue[str | None] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._replies.put(line)
        self._replies.put(None)

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        try:
            line = self._replies.get(timeout=REPLY_TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"the sandbox worker did not answer {command['op']!r}") from None
        if line is None:
            raise AssertionError(f"the sandbox worker exited (code {self.proc.wait(timeout=10)})")
        reply: dict[str, Any] = json.loads(line)
        assert "error" not in reply, reply
        return reply

    def start(self, **config: Any) -> dict[str, Any]:
        """Start a sandbox with ``config``; its Airflow connection (JSON form)."""
        connection: dict[str, Any] = self.ask(op="start", **config)["connection"]
        return connection

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.ask(op="stats")["stats"]
        return stats

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxWorker]:
    w = SandboxWorker(tmp_path_factory.mktemp("sandbox-state"))
    try:
        yield w
    finally:
        w.close()
