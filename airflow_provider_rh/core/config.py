"""The connection's settings, parsed once into a typed, frozen object.

Field names are a public contract (see the README's connection table). Unknown extras are an
error listing the known ones, so a typo (``scope`` for ``scopes``) is caught at once instead of
silently ignored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_rh.core.assertion import parse_header_references
from airflow_provider_rh.core.tokens import normalize_scopes
from airflow_provider_rh.exceptions import ConfigurationError

DEFAULT_SUBSCRIPTION_KEY_HEADER = "Ocp-Apim-Subscription-Key"
DEFAULT_TIMEOUT = 30.0

KNOWN_EXTRAS = (
    "token_url",
    "issuer",
    "certificate",
    "private_key",
    "private_key_passphrase",
    "certificate_path",
    "resource",
    "scopes",
    "subscription_key_header",
    "assertion_audience",
    "assertion_header",
    "verify",
    "timeout",
    "proxy",
    "test_path",
)

#: Airflow < 3.2 stores form fields as ``extra__<conn_type>__<name>``.
_FORM_PREFIX = "extra__regionhalland__"

#: Extras that hold secrets; Airflow's sensitive words are in their names.
SECRET_EXTRAS = ("private_key", "private_key_passphrase")


def connection_secrets(password: str | None, extra: Mapping[str, Any]) -> list[str]:
    """The secret values of a connection (subscriber key, key, passphrase), as stored.

    Read from the raw fields, before parsing, so they can be masked even when parsing fails.
    """
    values: list[Any] = [password]
    for name in SECRET_EXTRAS:
        values += [extra.get(name), extra.get(f"{_FORM_PREFIX}{name}")]
    return [value for value in values if isinstance(value, str) and value]


@dataclass(frozen=True)
class ClientConfig:
    """Everything needed to get tokens and call the API; secrets are never in ``repr``."""

    client_id: str
    token_url: str | None = None
    issuer: str | None = None
    base_url: str | None = None
    subscription_key: str | None = field(default=None, repr=False)
    certificate: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    private_key_passphrase: str | None = field(default=None, repr=False)
    certificate_path: str | None = None
    resource: str | None = None
    scopes: str | None = None
    subscription_key_header: str = DEFAULT_SUBSCRIPTION_KEY_HEADER
    assertion_audience: str | None = None
    assertion_header: tuple[str, ...] = ("x5t",)
    verify: bool | str = True
    timeout: float = DEFAULT_TIMEOUT
    proxy: str | None = None
    test_path: str | None = None

    @classmethod
    def from_connection_fields(
        cls,
        *,
        host: str | None,
        login: str | None,
        password: str | None,
        extra: Mapping[str, Any] | None,
        port: int | None = None,
    ) -> ClientConfig:
        """Build from an Airflow connection's fields (without importing Airflow)."""
        extras = _normalize_extras(extra or {})
        client_id = _text(login)
        if not client_id:
            raise ConfigurationError(
                "The connection's login (client id) is empty: set it to the client id (GUID) the "
                "region gave you.",
                field="login",
            )
        token_url = _url(extras.get("token_url"), "token_url")
        issuer = _url(extras.get("issuer"), "issuer")
        if not token_url and not issuer:
            raise ConfigurationError(
                "Set extra.token_url (the token endpoint, e.g. https://<adfs-host>/adfs/oauth2/token/) "
                "or extra.issuer (the issuer or discovery URL).",
                field="token_url",
            )
        return cls(
            client_id=client_id,
            token_url=token_url,
            issuer=issuer if not token_url else None,
            base_url=_base_url(host, port),
            subscription_key=_text(password),
            certificate=_text(extras.get("certificate")),
            private_key=_text(extras.get("private_key")),
            private_key_passphrase=_text(extras.get("private_key_passphrase")),
            certificate_path=_text(extras.get("certificate_path")),
            resource=_text(extras.get("resource")),
            scopes=normalize_scopes(_text(extras.get("scopes"))),
            subscription_key_header=_text(extras.get("subscription_key_header"))
            or DEFAULT_SUBSCRIPTION_KEY_HEADER,
            assertion_audience=_text(extras.get("assertion_audience")),
            assertion_header=parse_header_references(_text(extras.get("assertion_header"))),
            verify=_verify(extras.get("verify")),
            timeout=_timeout(extras.get("timeout")),
            proxy=_url(extras.get("proxy"), "proxy"),
            test_path=_text(extras.get("test_path")),
        )


def _normalize_extras(extra: Mapping[str, Any]) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    for raw_key, value in extra.items():
        key = raw_key[len(_FORM_PREFIX) :] if raw_key.startswith(_FORM_PREFIX) else raw_key
        if value is None or value == "":
            continue
        extras[key] = value
    unknown = sorted(set(extras) - set(KNOWN_EXTRAS))
    if unknown:
        raise ConfigurationError(
            f"Unknown connection extra(s) {', '.join(unknown)}; known extras are {', '.join(KNOWN_EXTRAS)}.",
            field=unknown[0],
        )
    return extras


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _url(value: Any, name: str) -> str | None:
    text = _text(value)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"extra.{name} must be an http(s) URL, got {text!r}.",
            field=name,
        )
    return text


def _base_url(host: str | None, port: int | None) -> str | None:
    text = _text(host)
    if text is None:
        return None
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"The connection's host must be the API base URL, e.g. https://api.example.se/hsainfo/v1; "
            f"got {host!r}.",
            field="host",
        )
    if port and parts.port is None and port != {"http": 80, "https": 443}.get(parts.scheme):
        text = parts._replace(netloc=f"{parts.netloc}:{port}").geturl()
    return text.rstrip("/")


def _verify(value: Any) -> bool | str:
    if value is None or isinstance(value, bool):
        return True if value is None else value
    text = str(value).strip()
    if text.lower() in ("true", "1", "yes", "on"):
        return True
    if text.lower() in ("false", "0", "no", "off"):
        return False
    if not os.path.exists(text):
        raise ConfigurationError(
            f"extra.verify must be true, false or the path of a CA bundle; {text!r} does not exist.",
            field="verify",
        )
    return text


def _timeout(value: Any) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        timeout = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"extra.timeout must be a number of seconds, got {value!r}.", field="timeout"
        ) from None
    if timeout <= 0:
        raise ConfigurationError(f"extra.timeout must be positive, got {value!r}.", field="timeout")
    return timeout
