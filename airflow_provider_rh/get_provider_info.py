"""What Airflow's ProvidersManager learns about this package (entry point ``apache_airflow_provider``).

The connection form is declared here (``conn-fields``/``ui-field-behaviour``) so that Airflow
>= 3.2 can render it without importing the hook; the hook repeats it for 3.0 and 3.1. Labels
come from :mod:`airflow_provider_rh.core.fields`, the same table error messages use.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_rh import __version__
from airflow_provider_rh.core.fields import EXTRA_LABELS, STANDARD_LABELS

CONN_TYPE = "regionhalland"
HOOK_NAME = "Region Halland API"

#: Where a user finds the whole story of each field.
DOCS = "docs/connection.md"

#: Help under each extra field, in form order; labels come from ``core.fields``. Airflow 3.3 shows
#: a help line for extra fields only; standard fields get a label and a placeholder (below).
_HELP: dict[str, str] = {
    "auth_url": "Required unless Issuer is set. The token endpoint, used exactly as written (it is also "
    "the client assertion's audience). AD FS: https://<adfs-host>/adfs/oauth2/token/ with the slash.",
    "issuer": "Instead of the token endpoint: the issuer (https://<adfs-host>/adfs) or its "
    ".well-known/openid-configuration URL; the token endpoint is then looked up.",
    "certificate": "Required unless Certificate file path is set or the key is a PKCS#12 bundle. "
    "The certificate whose public part the region registered, PEM (-----BEGIN CERTIFICATE-----...).",
    "private_key": "Required unless Certificate file path is set. The certificate's private key, PEM "
    "(encrypted or not) or base64 of a .pfx/.p12. Text pasted here shows on screen while typed and is "
    f"kept in Airflow's database: prefer Certificate file path or a secrets backend ({DOCS}).",
    "private_key_passphrase": "Only if the private key or the PKCS#12 bundle is encrypted.",
    "certificate_path": "Recommended instead of pasting certificate and key: a path, readable on every "
    "Airflow worker, to a PEM file holding both, or to a .pfx/.p12 file.",
    "resource": "The API's resource id exactly as the region gave it (a bare name, not a URL), e.g. "
    "hsainfoapi.regionhalland.se. Needed for a useful token; a task may name another one.",
    "scopes": "Space-separated scopes ordered for that resource, e.g. hsainfoapi.read.",
    "subscription_key_header": "Header that carries the subscriber key; keep "
    "Ocp-Apim-Subscription-Key unless the API's page in the developer portal names another.",
    "assertion_audience": "Leave empty for AD FS (the token endpoint URL is used). Entra ID style "
    "servers may want the issuer here.",
    "assertion_header": "How the client assertion names the certificate: x5t (default; AD FS needs it), "
    "x5t#S256, kid, or a comma list of them.",
    "verify": "true (default), false (never in production), or the path of a CA bundle for a private CA.",
    "timeout": "Seconds per HTTP call, token requests included (default 30).",
    "proxy": "Optional proxy for token and API calls, e.g. http://proxy.example.se:8080 (http:// is "
    "fine: HTTPS travels through it encrypted; no user:password@).",
    "test_path": "A cheap GET under the API base URL that the Test button calls, e.g. /health "
    "(default: the API base URL itself).",
    "allow_insecure_http": "Off by default: plain http:// is refused except to localhost. Turn on only "
    "for a test gateway without TLS; keys and tokens would travel unencrypted.",
    "next_certificate": "Only during a certificate rotation (docs/rotation.md): the new certificate, PEM. "
    "Tasks sign with it once AD FS accepts it and with the current one until then, so it can be set "
    "before the region has registered it.",
    "next_private_key": "Only during a rotation: the new certificate's private key, PEM or base64 of a "
    ".pfx/.p12. Prefer Next certificate file path.",
    "next_private_key_passphrase": "Only if the next private key or its PKCS#12 bundle is encrypted.",
    "next_certificate_path": "Only during a rotation: path, readable on every worker, to the file "
    "rh-register rotate wrote (next certificate + key, PEM or .pfx/.p12).",
    "expiry_warning_days": "Days before a certificate's expiry when every task logs a warning and the "
    "certificate check fails without an accepted next certificate (default 30).",
}

#: JSON-schema of each extra. No extra is required on its own (each has an alternative), so every
#: type admits null; the help text says which field stands in for which.
_SCHEMA: dict[str, dict[str, Any]] = {
    "auth_url": {"type": ["string", "null"], "format": "url"},
    "certificate": {"type": ["string", "null"], "format": "multiline"},
    "private_key": {"type": ["string", "null"], "format": "multiline"},
    "private_key_passphrase": {"type": ["string", "null"], "format": "password"},
    "subscription_key_header": {"type": ["string", "null"], "default": "Ocp-Apim-Subscription-Key"},
    # No stored defaults for these two: Airflow hands every string in the extra to its secrets
    # masker, which warns in every task log about a value as short as "x5t" or "true" (users read
    # that as a security problem). Empty means the default, which the help text states.
    "assertion_header": {"type": ["string", "null"]},
    "verify": {"type": ["string", "null"]},
    "timeout": {"type": ["number", "null"], "default": 30},
    "allow_insecure_http": {"type": ["boolean", "null"]},
    "next_certificate": {"type": ["string", "null"], "format": "multiline"},
    "next_private_key": {"type": ["string", "null"], "format": "multiline"},
    "next_private_key_passphrase": {"type": ["string", "null"], "format": "password"},
    "expiry_warning_days": {"type": ["integer", "null"], "default": 30},
}

#: Extra fields of the connection, in form order. Secret ones carry Airflow's sensitive words
#: (``private_key``, ``passphrase``) in their names so Airflow redacts them everywhere; no other
#: name contains one, so the token endpoint stays readable in the edit form.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    name: {
        "label": label,
        "description": _HELP[name],
        "schema": _SCHEMA.get(name, {"type": ["string", "null"]}),
    }
    for name, label in EXTRA_LABELS.items()
}

#: Standard fields the form shows, with their label. Airflow 3.3 gives standard fields no help
#: line, so the placeholder carries the help; "(required)" marks what every call needs.
_REQUIRED = ("host", "login", "password")
_STANDARD_PLACEHOLDERS: dict[str, str] = {
    "host": "https://api.example.se/hsainfo/v1 (every API path is relative to it)",
    "login": "client id, the GUID the region's AD FS gave your registration",
    "password": "subscriber key of your developer-portal subscription to this API",
    "port": "443 (or the base URL's port): Test on Airflow 3.3.1-3.3.2 needs it",
    "description": "e.g. hsainfo, test registration minklient.mindoman.se",
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema"],
    "relabeling": {
        name: f"{label} (required)" if name in _REQUIRED else label for name, label in STANDARD_LABELS.items()
    },
    "placeholders": _STANDARD_PLACEHOLDERS,
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
                "python-modules": [
                    "airflow_provider_rh.operators.regionhalland",
                    "airflow_provider_rh.operators.certificates",
                ],
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
