"""Apache Airflow provider for Region Halland's APIs."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:  # The version lives in pyproject.toml only (docs/releasing.md); installed metadata carries it.
    __version__ = version("airflow-provider-rh")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
