"""OpenLineage dataset names for the two ends of a pull (the naming spec, no OpenLineage import).

Per the OpenLineage naming conventions: an HTTP API is ``namespace = scheme://host[:port]``,
``name = path``; object storage is ``namespace = scheme://bucket``, ``name = key``; a local file
is ``namespace = file``, ``name = absolute path``.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def api_dataset(base_url: str, path: str) -> tuple[str, str]:
    """``("https://api.example.se", "/hsainfo/v1/units")`` for base URL + endpoint path."""
    base = urlsplit(base_url)
    namespace = f"{base.scheme}://{base.netloc}"
    if "://" in path:
        return namespace, urlsplit(path).path
    return namespace, f"{base.path.rstrip('/')}/{path.split('?', 1)[0].lstrip('/')}"


def storage_dataset(url: str) -> tuple[str, str]:
    """``("s3://lake", "hsainfo/units.ndjson.gz")``, or ``("file", "/tmp/x.ndjson")`` for local."""
    parts = urlsplit(url)
    if parts.scheme in ("", "file", "local"):
        return "file", parts.path
    return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/")
