"""What Airflow's ProvidersManager learns about this package (entry point ``apache_airflow_provider``).

The connection form is declared here (``conn-fields``/``ui-field-behaviour``) so that Airflow
>= 3.2 can render it without importing the hook; the hook repeats it for 3.0 and 3.1.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_rh import __version__

CONN_TYPE = "regionhalland"
HOOK_NAME = "Region Halland API"

#: Extra fields of the connection, in form order. Secret ones carry Airflow's sensitive words
#: (``private_key``, ``passphrase``) in their names so Airflow redacts them everywhere.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "auth_url": {
        "label": "Token endpoint URL",
        "description": "Token endpoint URL, used exactly as written (AD FS: https://<host>/adfs/oauth2/token/).",
        "schema": {"type": ["string", "null"], "format": "url"},
    },
    "issuer": {
        "label": "Issuer / discovery URL",
        "description": "Instead of the token endpoint: issuer or .well-known/openid-configuration URL.",
        "schema": {"type": ["string", "null"]},
    },
    "certificate": {
        "label": "Certificate (PEM)",
        "description": "The certificate registered with the region (public part), PEM.",
        "schema": {"type": ["string", "null"], "format": "multiline"},
    },
    "private_key": {
        "label": "Private key (PEM or base64 PKCS#12)",
        "description": "The certificate's private key, PEM (may be encrypted), or base64 of a .pfx/.p12.",
        "schema": {"type": ["string", "null"], "format": "multiline"},
    },
    "private_key_passphrase": {
        "label": "Private key passphrase",
        "description": "Passphrase of the private key or PKCS#12 bundle, if it has one.",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "certificate_path": {
        "label": "Certificate file path",
        "description": "Instead of the two fields above: PEM file with certificate and key, or .pfx/.p12.",
        "schema": {"type": ["string", "null"]},
    },
    "resource": {
        "label": "Default resource id",
        "description": "Resource id of the API, sent as given, e.g. hsainfoapi.regionhalland.se.",
        "schema": {"type": ["string", "null"]},
    },
    "scopes": {
        "label": "Default scopes",
        "description": "Space-separated scopes, e.g. hsainfoapi.read.",
        "schema": {"type": ["string", "null"]},
    },
    "subscription_key_header": {
        "label": "Subscriber key header",
        "description": "Header that carries the subscriber key.",
        "schema": {"type": ["string", "null"], "default": "Ocp-Apim-Subscription-Key"},
    },
    "assertion_audience": {
        "label": "Assertion audience (aud)",
        "description": "Override the client assertion's aud (default: the token endpoint URL).",
        "schema": {"type": ["string", "null"]},
    },
    "assertion_header": {
        "label": "Assertion header certificate reference",
        "description": "x5t (default, AD FS), x5t#S256, kid, or a comma list of them.",
        "schema": {"type": ["string", "null"], "default": "x5t"},
    },
    "verify": {
        "label": "Verify TLS",
        "description": "true (default), false, or a path to a CA bundle.",
        "schema": {"type": ["string", "null"], "default": "true"},
    },
    "timeout": {
        "label": "Timeout (seconds)",
        "description": "Seconds per HTTP call.",
        "schema": {"type": ["number", "null"], "default": 30},
    },
    "proxy": {
        "label": "Proxy URL",
        "description": "Optional proxy for all calls, e.g. http://proxy.example.se:8080.",
        "schema": {"type": ["string", "null"]},
    },
    "test_path": {
        "label": "Test path",
        "description": "A cheap GET endpoint under the base URL that Test calls, e.g. /health.",
        "schema": {"type": ["string", "null"]},
    },
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port"],
    "relabeling": {"host": "API base URL", "login": "Client id", "password": "Subscriber key"},
    "placeholders": {
        "host": "https://api.example.se/hsainfo/v1",
        "login": "00000000-0000-0000-0000-000000000000 (from the region)",
        "password": "subscriber key from the developer portal",
        "auth_url": "https://adfs.example.se/adfs/oauth2/token/",
        "resource": "hsainfoapi.regionhalland.se",
        "scopes": "hsainfoapi.read",
    },
}


def get_provider_info() -> dict[str, Any]:
    """Return the provider metadata Airflow reads through the entry point."""
    return {
        "package-name": "airflow-provider-rh",
        "name": "Region Halland",
        "description": "Region Halland APIs: per-resource OAuth2 tokens with certificate-signed "
        "client assertions (AD FS), paginated pulls into object storage.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Region Halland API",
                "external-doc-url": "https://www.regionhalland.se/",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Region Halland API",
                "python-modules": ["airflow_provider_rh.hooks.regionhalland"],
            }
        ],
        "operators": [
            {
                "integration-name": "Region Halland API",
                "python-modules": ["airflow_provider_rh.operators.regionhalland"],
            }
        ],
        "sensors": [
            {
                "integration-name": "Region Halland API",
                "python-modules": ["airflow_provider_rh.sensors.regionhalland"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Region Halland API",
                "python-modules": ["airflow_provider_rh.triggers.regionhalland"],
            }
        ],
        "transfers": [
            {
                "source-integration-name": "Region Halland API",
                "target-integration-name": "Region Halland API",
                "python-module": "airflow_provider_rh.transfers.api_to_storage",
            }
        ],
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_rh.hooks.regionhalland.RegionHallandHook",
                "hook-name": HOOK_NAME,
                "connection-type": CONN_TYPE,
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
    }
