"""The registration rehearsal in docs/getting-access.md runs as written, even with the sandbox's
default port taken (a running ``rh-sandbox``)."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
from pathlib import Path

from airflow_provider_rh.registration.__main__ import main
from airflow_provider_rh.sandbox.config import DEFAULT_PORT

DOC = Path(__file__).resolve().parents[2] / "docs" / "getting-access.md"
NAME = "minklient.mindoman.se"


def rehearsal_block() -> str:
    text = DOC.read_text()
    after = text[text.index("Save as `rehearse.py`") :]
    return re.search(r"```python\n(.*?)```", after, re.DOTALL).group(1)  # type: ignore[union-attr]


def test_the_rehearsal_runs_beside_a_sandbox_on_the_default_port(tmp_path: Path):
    assert main(["new", "--name", NAME, "--out", str(tmp_path / NAME)]) == 0
    (tmp_path / "rehearse.py").write_text(rehearsal_block())
    with contextlib.ExitStack() as stack:
        taken = stack.enter_context(socket.socket())
        with contextlib.suppress(OSError):  # already taken by someone else is just as good
            taken.bind(("127.0.0.1", DEFAULT_PORT))
            taken.listen()
        result = subprocess.run(
            [sys.executable, "rehearse.py"],
            input="\n",
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Address already in use" not in result.stderr
    [url] = re.findall(r"--host (http://127\.0\.0\.1:\d+/hsainfo/v1)", result.stdout)
    assert f":{DEFAULT_PORT}/" not in url
