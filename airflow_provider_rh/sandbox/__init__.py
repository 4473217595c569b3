"""A local test double of Region Halland's AD FS, API gateway and a sample ``hsainfo`` API.

It is the other side of the wire, so it imports nothing from the provider or from Airflow.
Everything is served on one port (``rh-sandbox --help`` for the CLI)::

    GET  /adfs/.well-known/openid-configuration
    GET  /adfs/discovery/keys
    POST /adfs/oauth2/token/            client credentials with a private_key_jwt assertion
    GET  /hsainfo/v1/health             every /hsainfo/v1 route needs the subscription key
    GET  /hsainfo/v1/units              {"items", "next"}             (and a bearer token
    GET  /hsainfo/v1/units/link         [...] + Link: <...>; rel=next  for the hsainfo resource)
    GET  /hsainfo/v1/units/cursor       {"items", "cursor"}
    GET  /hsainfo/v1/units/offset       {"items", "total"}
    GET  /hsainfo/v1/units/pages        {"items", "page", "pageSize", "totalCount"}
    GET  /hsainfo/v1/units/odata        {"value", "@odata.nextLink"}
    GET  /hsainfo/v1/units/{id}
    POST /hsainfo/v1/search/units       paging in the JSON body; records that change (shapes.py)
    GET  /hsainfo/v1/odata/Units        $filter, $top/$skip, @odata.nextLink, @odata.deltaLink
    GET  /hsainfo/v1/odata/Units/delta  the changes since a delta link; 410 once it expired
    POST /hsainfo/v1/shapes/admin/...   change records, expire delta links (tests, demos)

Example::

    from airflow_provider_rh.sandbox import Faults, Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(state_dir=tmp_path, port=0, unit_count=250, faults=Faults(seed=1))) as sb:
        os.environ["AIRFLOW_CONN_REGIONHALLAND_DEFAULT"] = sb.connection_uri_env()
"""

from __future__ import annotations

from airflow_provider_rh.sandbox.config import Faults, SandboxConfig
from airflow_provider_rh.sandbox.server import Sandbox
from airflow_provider_rh.sandbox.stats import Stats

__all__ = ["Faults", "Sandbox", "SandboxConfig", "Stats"]
