"""Counting the work a parser does, so "linear" is a property a test can check without a clock."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any


def lines_run(module: Any, call: Callable[[], object]) -> tuple[int, object]:
    """How many source lines of ``module`` ran during ``call()``, and what it returned or raised.

    Python executes a bounded number of bytecodes per line, so the count of lines is a measure
    of work that does not depend on the machine's speed.
    """
    filename = module.__file__
    count = 0

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if frame.f_code.co_filename != filename:
            return None
        if event == "line":
            count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        result: object = call()
    except Exception as exc:
        result = exc
    finally:
        sys.settrace(previous)
    return count, result


def outcome(call: Callable[[], object]) -> object:
    """What ``call()`` returned, or the exception it raised (for properties over both)."""
    try:
        return call()
    except Exception as exc:
        return exc
