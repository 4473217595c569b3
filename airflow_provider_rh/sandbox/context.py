"""Everything the running sandbox shares between its token server, gateway and API."""

from __future__ import annotations

from dataclasses import dataclass, field

from joserfc.jwk import RSAKey

from airflow_provider_rh.sandbox.assertion import ReplayCache
from airflow_provider_rh.sandbox.config import SandboxConfig
from airflow_provider_rh.sandbox.faults import FaultInjector
from airflow_provider_rh.sandbox.registry import Registry
from airflow_provider_rh.sandbox.stats import Stats

API_BASE_PATH = "/hsainfo/v1"
HSAINFO_RESOURCE = "hsainfoapi.regionhalland.se"
HSAINFO_SCOPES = ("hsainfoapi.read", "hsainfoapi.write")
HSAINFO_CLIENT_SCOPES = ("hsainfoapi.read",)
OTHER_RESOURCE = "annatapi.regionhalland.se"
OTHER_SCOPES = ("annatapi.read",)


@dataclass
class Context:
    """The shared state of one sandbox run; URLs are fixed once the port is bound."""

    config: SandboxConfig
    public_url: str
    """``scheme://host:port`` without a trailing slash, as clients reach the sandbox."""
    signing_key: RSAKey
    faults: FaultInjector
    registry: Registry = field(default_factory=Registry)
    stats: Stats = field(default_factory=Stats)
    replay: ReplayCache = field(default_factory=ReplayCache)
    api_resource: str = HSAINFO_RESOURCE

    @property
    def issuer(self) -> str:
        return f"{self.public_url}/adfs"

    @property
    def token_url(self) -> str:
        return f"{self.public_url}/adfs/oauth2/token/"

    @property
    def base_url(self) -> str:
        return f"{self.public_url}{API_BASE_PATH}"

    @property
    def kid(self) -> str:
        return self.signing_key.thumbprint()

    def now(self) -> float:
        return self.config.clock()
