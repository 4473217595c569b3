"""Field names in messages survive the Airflow CLI, which prints through rich markup.

Rich reads ``[lowercase...]`` as a style tag and drops it, so ``Certificate (PEM)
[extra.certificate]`` printed as ``Certificate (PEM) `` in ``airflow connections test``.
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from airflow_provider_rh.core.fields import EXTRA_LABELS, STANDARD_LABELS, describe


def _through_rich(text: str) -> str:
    out = io.StringIO()
    Console(file=out, width=500, color_system=None).print(text)
    return out.getvalue().rstrip("\n")


@pytest.mark.parametrize("key", [*STANDARD_LABELS, *EXTRA_LABELS])
def test_every_field_name_prints_whole_in_the_cli(key: str) -> None:
    message = f"set {describe(key)} and try again"
    assert _through_rich(message) == message
    assert key in _through_rich(message)
