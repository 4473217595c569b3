"""A sandbox in its own process, driven over stdin/stdout with one JSON object per line.

The fault suite pulls 100,000 records per scenario; with the server in another process the
client and the server each get a core (about 2.5 times faster than one process), and the
server's counters stay readable. Commands::

    {"op": "start", "unit_count": 100000, "faults": {...}, "token_lifetime": 2, "clock_step": 0.05,
     "clock_skew": 3600}
        -> {"connection": {...}}   (stops the previous sandbox first)
    {"op": "stats"} -> {"stats": {"token_requests", "tokens_issued", "api_requests", "faults"}}
    {"op": "stop"}  -> {"stopped": true}

End of input stops everything. Run as ``python -m tests.reliability.sandbox_worker STATE_DIR``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from airflow_provider_rh.sandbox import Faults, Sandbox, SandboxConfig


class StepClock:
    """A clock that moves ``step`` seconds on every reading, and not otherwise.

    Token expiry then depends on how many requests were served, not on how fast: a token of
    ``token_lifetime`` seconds expires after a fixed number of readings, on any machine. (The
    clock drifts from the client's, so such scenarios also widen ``clock_skew``.)
    """

    def __init__(self, step: float) -> None:
        self.step = step
        self.readings = 0
        self._start = time.time()
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self.readings += 1
            return self._start + self.readings * self.step


def start(state_dir: Path, command: dict[str, Any]) -> Sandbox:
    config: dict[str, Any] = {
        "state_dir": state_dir,
        "port": 0,
        "unit_count": command.get("unit_count", 100_000),
        "token_lifetime": command.get("token_lifetime", 3600),
        "clock_skew": command.get("clock_skew", 60.0),
        "faults": Faults(**command.get("faults", {})),
    }
    if command.get("clock_step"):
        config["clock"] = StepClock(float(command["clock_step"]))
    return Sandbox(SandboxConfig(**config)).start()


def stats(sandbox: Sandbox | None) -> dict[str, Any]:
    if sandbox is None:
        return {}
    s = sandbox.stats
    return {
        "token_requests": s.token_requests,
        "tokens_issued": s.tokens_issued,
        "api_requests": s.api_requests_total,
        "faults": s.faults,
    }


def main() -> None:
    state_dir = Path(sys.argv[1])
    replies = sys.stdout
    sys.stdout = sys.stderr  # only replies on the protocol stream
    sandbox: Sandbox | None = None

    def reply(payload: dict[str, Any]) -> None:
        replies.write(json.dumps(payload) + "\n")
        replies.flush()

    try:
        for line in sys.stdin:
            command = json.loads(line)
            op = command["op"]
            if op in ("start", "stop") and sandbox is not None:
                sandbox.stop()
                sandbox = None
            if op == "start":
                sandbox = start(state_dir, command)
                reply({"connection": sandbox.connection})
            elif op == "stats":
                reply({"stats": stats(sandbox)})
            elif op == "stop":
                reply({"stopped": True})
            else:
                reply({"error": f"unknown op {op!r}"})
    finally:
        if sandbox is not None:
            sandbox.stop()


if __name__ == "__main__":
    main()
