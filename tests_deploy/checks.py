"""Importable by every component (worker and triggerer alike), so the DAGs can name them by path."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx

MARKER_ENV = "RH_DEPLOY_SENSOR_MARKER"
HOSTNAME_ENV = "RH_DEPLOY_HOSTNAME"


def marker_exists(response: httpx.Response) -> bool:
    """Ready once the test has created the marker file.

    The test creates it only after it has seen the sensor's task instance deferred, so a
    success proves the wait happened in the triggerer and the task resumed from there.
    """
    return response.is_success and Path(os.environ[MARKER_ENV]).exists()


def hostname() -> str:
    """``[core] hostname_callable``: the name each worker was started with, as a container's would be.

    Both Celery workers run on this one machine; without this every task instance would show
    the same host name and nobody could tell which worker ran it.
    """
    return os.environ.get(HOSTNAME_ENV) or socket.getfqdn()
