"""The connection's fields as a user sees them: the form's label beside the stored key.

Messages name a field the way the connection form labels it, with the key the user would put in
an ``AIRFLOW_CONN_...`` JSON or a secrets backend beside it, e.g.
``Certificate (PEM) (extra.certificate)``. The form (``get_provider_info``) takes its labels
from here, so the two cannot drift apart.
"""

from __future__ import annotations

#: Standard connection fields: key -> label in the form.
STANDARD_LABELS: dict[str, str] = {
    "host": "API base URL",
    "login": "Client id",
    "password": "Subscriber key",
    "port": "Port",
}

#: Extra fields, in form order: key -> label in the form.
EXTRA_LABELS: dict[str, str] = {
    "auth_url": "Token endpoint URL",
    "issuer": "Issuer / discovery URL",
    "certificate": "Certificate (PEM)",
    "private_key": "Private key (PEM or base64 PKCS#12)",
    "private_key_passphrase": "Private key passphrase",
    "certificate_path": "Certificate file path",
    "resource": "Default resource id",
    "scopes": "Default scopes",
    "subscription_key_header": "Subscriber key header",
    "assertion_audience": "Assertion audience (aud)",
    "assertion_header": "Assertion header certificate reference",
    "verify": "Verify TLS",
    "timeout": "Timeout (seconds)",
    "proxy": "Proxy URL",
    "test_path": "Test path",
    "allow_insecure_http": "Allow plain HTTP (not for production)",
    # A certificate rotation (docs/rotation.md): the next certificate beside the current one.
    "next_certificate": "Next certificate (PEM)",
    "next_private_key": "Next private key (PEM or base64 PKCS#12)",
    "next_private_key_passphrase": "Next private key passphrase",
    "next_certificate_path": "Next certificate file path",
    "expiry_warning_days": "Expiry warning (days)",
}

#: Old extra names still read, with a deprecation warning: old -> new.
DEPRECATED_EXTRAS: dict[str, str] = {"token_url": "auth_url"}


def describe(key: str) -> str:
    """``'Certificate (PEM) (extra.certificate)'`` or ``'Client id (login)'`` for a field key."""
    key = DEPRECATED_EXTRAS.get(key, key)
    if key in STANDARD_LABELS:
        return f"{STANDARD_LABELS[key]} ({key})"
    if key in EXTRA_LABELS:
        return f"{EXTRA_LABELS[key]} (extra.{key})"
    return f"extra.{key}"
