"""The connection's settings, parsed once into a typed, frozen object.

Field names are a public contract (see the README's connection table and
:mod:`~airflow_provider_rh.core.fields`). Unknown extras are an error listing the known ones, so
a typo (``scope`` for ``scopes``) is caught at once instead of silently ignored. Every message
names the field as the connection form labels it, says what is wrong and what to do, and never
repeats a secret value.
"""

from __future__ import annotations

import json
import logging
import math
import os
import ssl
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_rh.core import redact
from airflow_provider_rh.core.assertion import parse_header_references
from airflow_provider_rh.core.fields import DEPRECATED_EXTRAS, EXTRA_LABELS, describe
from airflow_provider_rh.core.tokens import normalize_scopes
from airflow_provider_rh.core.urls import shown, url_problem
from airflow_provider_rh.exceptions import ConfigurationError

log = logging.getLogger(__name__)

DEFAULT_SUBSCRIPTION_KEY_HEADER = "Ocp-Apim-Subscription-Key"
DEFAULT_TIMEOUT = 30.0
#: Upper bound of ``timeout``: one HTTP call that may take longer than an hour is a mistake.
MAX_TIMEOUT = 3600.0
#: Longest value of any one field: a PEM chain is a few KB; a PKCS#12 in base64 rarely 100 KB.
MAX_FIELD_CHARS = 1024 * 1024

KNOWN_EXTRAS = tuple(EXTRA_LABELS)

#: Airflow < 3.2 stores form fields as ``extra__<conn_type>__<name>``.
_FORM_PREFIX = "extra__regionhalland__"

#: Extras that hold secrets; Airflow's sensitive words are in their names.
SECRET_EXTRAS = ("private_key", "private_key_passphrase", "next_private_key", "next_private_key_passphrase")

#: Days before a certificate's expiry when tasks warn and the certificate check fails.
DEFAULT_EXPIRY_WARNING_DAYS = 30
#: Longest warning period accepted: certificates rarely live longer than a few years.
MAX_EXPIRY_WARNING_DAYS = 3650


class DeprecatedFieldWarning(DeprecationWarning):
    """A connection uses an old field name that still works but should be renamed."""


def connection_secrets(password: str | None, extra: Mapping[str, Any] | str | None) -> list[str]:
    """The secret values of a connection (subscriber key, key, passphrase), as stored.

    Read from the raw fields, before parsing, so they can be masked even when parsing fails.
    """
    values: list[Any] = [password]
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except (ValueError, RecursionError):
            extra = None  # the parser reports it
    if isinstance(extra, Mapping):
        for name in SECRET_EXTRAS:
            values += [extra.get(name), extra.get(f"{_FORM_PREFIX}{name}")]
    # An absurd value is refused by the parser (unquoted); masking it would only cost memory.
    return [value for value in values if isinstance(value, str) and value and len(value) <= MAX_FIELD_CHARS]


@dataclass(frozen=True)
class ClientConfig:
    """Everything needed to get tokens and call the API; secrets are never in ``repr``."""

    client_id: str
    auth_url: str | None = None
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
    allow_insecure_http: bool = False
    # A certificate rotation (core/rotation.py, docs/rotation.md): the next certificate and key.
    next_certificate: str | None = field(default=None, repr=False)
    next_private_key: str | None = field(default=None, repr=False)
    next_private_key_passphrase: str | None = field(default=None, repr=False)
    next_certificate_path: str | None = None
    expiry_warning_days: int = DEFAULT_EXPIRY_WARNING_DAYS

    @property
    def token_url(self) -> str | None:
        """Deprecated name of :attr:`auth_url`."""
        return self.auth_url

    def ssl_verify(self) -> bool | ssl.SSLContext:
        """What httpx's ``verify`` wants: ``True``/``False`` or a context trusting the CA bundle."""
        if isinstance(self.verify, str):
            return ssl.create_default_context(cafile=self.verify)
        return self.verify

    @classmethod
    def from_connection_fields(
        cls,
        *,
        host: str | None,
        login: str | None,
        password: str | None,
        extra: Mapping[str, Any] | str | None,
        port: int | None = None,
    ) -> ClientConfig:
        """Build from an Airflow connection's fields (without importing Airflow).

        ``extra`` may be the stored JSON text: Airflow's ``extra_dejson`` turns invalid JSON
        into ``{}`` silently, so only the raw text can say what is wrong with it.
        """
        for secret in connection_secrets(password, extra):
            redact.register(secret, keep=True)  # long-lived: never forgotten
        for name, value in (("host", host), ("login", login), ("password", password)):
            if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
                raise ConfigurationError(
                    f"{describe(name)} is {len(value)} characters long, more than the "
                    f"{MAX_FIELD_CHARS} any field may hold: check what was pasted there.",
                    field=name,
                )
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
            raise ConfigurationError(
                f"{describe('port')} must be a port number from 1 to 65535, got {port!r}; leave it empty "
                "to use the one in the API base URL (443 for https).",
                field="port",
            )
        extras = _normalize_extras(_extra_mapping(extra))
        insecure = _flag(extras.get("allow_insecure_http"), "allow_insecure_http")
        client_id = _text(login)
        if not client_id:
            raise ConfigurationError(
                f"{describe('login')} is empty: set it to the client id (a GUID) the region gave you "
                "when it registered your application.",
                field="login",
            )
        auth_url = _url(extras.get("auth_url"), "auth_url", insecure)
        issuer = _url(extras.get("issuer"), "issuer", insecure)
        if not auth_url and not issuer:
            raise ConfigurationError(
                f"Neither {describe('auth_url')} nor {describe('issuer')} is set: set the token "
                "endpoint (AD FS: https://<adfs-host>/adfs/oauth2/token/), or the issuer / discovery "
                "URL to find it from.",
                field="auth_url",
            )
        return cls(
            client_id=client_id,
            auth_url=auth_url,
            issuer=issuer if not auth_url else None,
            base_url=_base_url(host, port, insecure),
            subscription_key=_subscription_key(password),
            certificate=_string(extras.get("certificate"), "certificate"),
            private_key=_string(extras.get("private_key"), "private_key"),
            private_key_passphrase=_passphrase(extras.get("private_key_passphrase")),
            certificate_path=_string(extras.get("certificate_path"), "certificate_path"),
            resource=check_resource(extras.get("resource"), "resource"),
            scopes=check_scopes(extras.get("scopes"), "scopes"),
            subscription_key_header=_header_name(extras.get("subscription_key_header")),
            assertion_audience=_string(extras.get("assertion_audience"), "assertion_audience"),
            assertion_header=_assertion_header(extras.get("assertion_header")),
            verify=_verify(extras.get("verify")),
            timeout=_timeout(extras.get("timeout")),
            proxy=_url(extras.get("proxy"), "proxy", insecure, proxy=True),
            test_path=_string(extras.get("test_path"), "test_path"),
            allow_insecure_http=insecure,
            next_certificate=_text(extras.get("next_certificate")),
            next_private_key=_text(extras.get("next_private_key")),
            next_private_key_passphrase=_passphrase(extras.get("next_private_key_passphrase")),
            next_certificate_path=_text(extras.get("next_certificate_path")),
            expiry_warning_days=_expiry_warning_days(extras.get("expiry_warning_days")),
        )


def _extra_mapping(extra: Mapping[str, Any] | str | None) -> Mapping[str, Any]:
    if extra is None:
        return {}
    if isinstance(extra, str):
        if not extra.strip():
            return {}
        if len(extra) > 4 * MAX_FIELD_CHARS:
            raise ConfigurationError(
                f"Extra (extra) is {len(extra)} characters long: far more than a connection needs; "
                "check what was pasted into it.",
                field="extra",
            )
        try:
            extra = json.loads(extra)
        except RecursionError:
            raise ConfigurationError(
                "Extra (extra) is not valid JSON (nested too deeply): it should be one flat JSON object.",
                field="extra",
            ) from None
        except json.JSONDecodeError as exc:
            # exc.msg and the position only: the text itself may hold the private key.
            raise ConfigurationError(
                f"Extra (extra) is not valid JSON ({exc.msg} at line {exc.lineno}, column "
                f'{exc.colno}): fix the JSON, e.g. {{"auth_url": "https://...", ...}}; '
                "newlines inside a PEM must be written as \\n.",
                field="extra",
            ) from None
    if not isinstance(extra, Mapping):
        raise ConfigurationError(
            f'Extra (extra) must be a JSON object ({{"auth_url": ...}}), not a {type(extra).__name__}.',
            field="extra",
        )
    return extra


def _normalize_extras(extra: Mapping[str, Any]) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    for raw_key, value in extra.items():
        key = str(raw_key)
        key = key[len(_FORM_PREFIX) :] if key.startswith(_FORM_PREFIX) else key
        if value is None or value == "":
            continue
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            raise ConfigurationError(
                f"{describe(key)} is {len(value)} characters long, more than the {MAX_FIELD_CHARS} "
                "any field may hold: check you pasted the right thing (a certificate or key is a few KB).",
                field=key,
            )
        extras[key] = value
    for old, new in DEPRECATED_EXTRAS.items():
        if old not in extras:
            continue
        if new in extras:
            raise ConfigurationError(
                f"Both extra.{old} (the old name) and {describe(new)} are set: keep only {new}.",
                field=new,
            )
        message = (
            f"Connection extra {old!r} is deprecated (Airflow hides any field named like a token): "
            f"rename it to {new!r}, {describe(new)}."
        )
        warnings.warn(message, DeprecatedFieldWarning, stacklevel=4)
        log.warning(message)
        extras[new] = extras.pop(old)
    unknown = sorted(set(extras) - set(KNOWN_EXTRAS))
    if unknown:
        raise ConfigurationError(
            f"Unknown connection extra(s) {', '.join(repr(redact.shown(key, 60)) for key in unknown[:10])}: "
            f"check the spelling; known extras are {', '.join(KNOWN_EXTRAS)}.",
            field=unknown[0] or "extra",  # an empty key names no field of its own
        )
    return extras


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _kind(value: Any) -> str:
    """What a JSON value is, in the words of JSON (never the value: it may be a secret)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _string(value: Any, name: str) -> str | None:
    """A text extra, stripped; any other JSON type is refused (``true`` is no path or URL)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{describe(name)} must be text (a JSON string in quotes), got {_kind(value)}: write the "
            "value in double quotes.",
            field=name,
        )
    return value.strip() or None


def _bad_character(text: str) -> str | None:
    """A description of the first whitespace or control character in ``text``, or ``None``."""
    for index, char in enumerate(text):
        if char.isspace() or redact.has_control(char):
            return f"{redact.escape(char) if char != ' ' else 'a space'} at position {index + 1}"
    return None


def check_resource(value: Any, name: str = "resource", *, argument: bool = False) -> str | None:
    """A resource id: text without whitespace or control characters (they would be sent as is).

    ``name`` is the connection extra, or with ``argument=True`` the operator argument, it came from.
    """
    text = _argument_text(value, name) if argument else _string(value, name)
    if text is None:
        return None
    bad = _bad_character(text)
    if bad:
        raise ConfigurationError(
            f"{_named(name, argument)} must be one resource id without spaces or control characters, got "
            f"{redact.shown(text, 100)!r} ({bad}): give the resource id exactly as the region "
            "registered it, e.g. annatapi.regionhalland.se.",
            field=name,
        )
    return text


def check_scopes(value: Any, name: str = "scopes", *, argument: bool = False) -> str | None:
    """Scopes as one space-separated string; a list of scope names is joined. Control characters,
    and whitespace inside a listed scope, are refused."""
    if value is None or value == "":
        return None
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        for item in value:
            bad = _bad_character(item.strip())
            if bad:
                raise ConfigurationError(
                    f"{_named(name, argument)} lists the scope {redact.shown(item, 100)!r} with {bad}: "
                    "each list item is one scope name, without spaces or control characters.",
                    field=name,
                )
        return normalize_scopes(list(value))
    text = _argument_text(value, name) if argument else _string(value, name)
    if text is None:
        return None
    for index, char in enumerate(text):
        if redact.has_control(char) or (char.isspace() and char != " "):
            raise ConfigurationError(
                f"{_named(name, argument)} has {redact.escape(char)} at position {index + 1}: separate "
                'scopes with plain spaces (e.g. "annatapi.read annatapi.write") and leave out control '
                "characters.",
                field=name,
            )
    return normalize_scopes(text)


def _argument_text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{_named(name, True)} must be a string, got {type(value).__name__}.",
            field=name,
        )
    return value.strip() or None


def _named(name: str, argument: bool) -> str:
    """A connection field in the form's words, an operator argument by its name."""
    return f"argument {name}" if argument else describe(name)


def _flag(value: Any, name: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{describe(name)} must be true or false, got {_kind(value)}: write true or false.",
            field=name,
        )
    text = value.strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise ConfigurationError(f"{describe(name)} must be true or false, got {value!r}.", field=name)


def _url(value: Any, name: str, insecure: bool, *, proxy: bool = False) -> str | None:
    text = _string(value, name)
    if text is None:
        return None
    problem = url_problem(text, allow_insecure_http=insecure, proxy=proxy)
    if problem:
        raise ConfigurationError(f"{describe(name)} {problem}; got {shown(text)!r}.", field=name)
    return text


def _base_url(host: str | None, port: int | None, insecure: bool) -> str | None:
    text = _text(host)
    if text is None:
        return None
    typed = text
    if "://" not in text:
        text = f"https://{text}"
    problem = url_problem(text, allow_insecure_http=insecure)
    if problem:
        raise ConfigurationError(
            f"{describe('host')} {problem}; it should be the API base URL, e.g. "
            f"https://api.example.se/hsainfo/v1, got {shown(typed)!r}.",
            field="host",
        )
    parts = urlsplit(text)
    if port and parts.port is None and port != {"http": 80, "https": 443}.get(parts.scheme):
        text = parts._replace(netloc=f"{parts.netloc}:{port}").geturl()
    return text.rstrip("/")


def _header_safe(value: str) -> bool:
    return all(0x21 <= ord(char) <= 0x7E for char in value)


#: RFC 9110 §5.6.2 ``token``: what a header name may be made of.
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

#: Headers the provider or HTTP itself sets on every call (lower case). A subscriber key header
#: of one of these names would replace the bearer token or break the request.
RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "content-type",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "host",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "accept",
        "accept-encoding",
        "user-agent",
        "cookie",
    }
)


def is_header_name(name: str) -> bool:
    """Whether ``name`` is an HTTP header name (an RFC 9110 token)."""
    return bool(name) and all(char in _TOKEN_CHARS for char in name)


def header_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a header the provider lets a user set, or ``None``."""
    if not is_header_name(name):
        return "is not an HTTP header name (letters, digits and - only, as in Ocp-Apim-Subscription-Key)"
    if name.lower() in RESERVED_HEADERS:
        return f"is a header the provider or HTTP sets itself ({name}), which it would replace"
    return None


def _subscription_key(value: str | None) -> str | None:
    key = _text(value)
    if key is not None and not _header_safe(key):
        # Never echo it: a key pasted with a line break would otherwise reach a message.
        raise ConfigurationError(
            f"{describe('password')} contains a space, line break or other character that cannot "
            "be sent in an HTTP header: paste the key again from the developer portal, exactly.",
            field="password",
        )
    return key


def _passphrase(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{describe('private_key_passphrase')} must be text (a JSON string in quotes), got "
            f"{_kind(value)}: write the passphrase in double quotes.",
            field="private_key_passphrase",
        )
    return value  # not stripped: a passphrase may end with a space


def _header_name(value: Any) -> str:
    name = _string(value, "subscription_key_header") or DEFAULT_SUBSCRIPTION_KEY_HEADER
    problem = header_name_problem(name)
    if problem:
        raise ConfigurationError(
            f"{describe('subscription_key_header')} {problem}; got {redact.shown(name, 100)!r}. Use the "
            f"header name the API's gateway expects, by default {DEFAULT_SUBSCRIPTION_KEY_HEADER}.",
            field="subscription_key_header",
        )
    return name


def _assertion_header(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        value = ",".join(value)
    text = _string(value, "assertion_header")
    try:
        return parse_header_references(text)
    except ConfigurationError:
        raise ConfigurationError(
            f"{describe('assertion_header')} has an unknown value in {redact.shown(text, 200)!r}: use "
            "x5t (AD FS, the default), x5t#S256, kid, or a comma list of them.",
            field="assertion_header",
        ) from None


def _verify(value: Any) -> bool | str:
    if value is None or isinstance(value, bool):
        return True if value is None else value
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{describe('verify')} must be true, false or the path of a CA bundle (PEM), got {_kind(value)}.",
            field="verify",
        )
    text = value.strip()
    if text.lower() in ("true", "1", "yes", "on"):
        return True
    if text.lower() in ("false", "0", "no", "off"):
        return False
    if not os.path.isfile(text):
        raise ConfigurationError(
            f"{describe('verify')} must be true, false or the path of a CA bundle (PEM) on every "
            f"worker; {text!r} is not a file.",
            field="verify",
        )
    try:
        ssl.create_default_context(cafile=text)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ConfigurationError(
            f"{describe('verify')} points at {text!r}, which is not a CA bundle "
            f"({getattr(exc, 'reason', None) or type(exc).__name__}): give a PEM file holding the "
            "CA certificate(s) that signed the servers' certificates.",
            field="verify",
        ) from None
    return text


def _timeout(value: Any) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        # ``true`` is no number of seconds (float(True) would make it 1 s).
        raise ConfigurationError(
            f"{describe('timeout')} must be a number of seconds per HTTP call, got {_kind(value)}; "
            f"write a number such as {DEFAULT_TIMEOUT:g}, or leave it out for the default.",
            field="timeout",
        )
    try:
        timeout = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigurationError(
            f"{describe('timeout')} must be a number of seconds per HTTP call, got {value!r}.",
            field="timeout",
        ) from None
    if not math.isfinite(timeout) or not 0 < timeout <= MAX_TIMEOUT:
        raise ConfigurationError(
            f"{describe('timeout')} must be more than 0 and at most {MAX_TIMEOUT:g} seconds per HTTP "
            f"call, got {value!r}; the default is {DEFAULT_TIMEOUT:g}.",
            field="timeout",
        )
    return timeout


def _expiry_warning_days(value: Any) -> int:
    if value is None:
        return DEFAULT_EXPIRY_WARNING_DAYS
    days: int | None = None
    if isinstance(value, float) and value.is_integer():
        days = int(value)
    elif not isinstance(value, bool):
        try:
            days = int(str(value).strip()[:20])
        except ValueError:
            days = None
    if days is None or not 0 <= days <= MAX_EXPIRY_WARNING_DAYS:
        shown_value = repr(value)[:40]
        raise ConfigurationError(
            f"{describe('expiry_warning_days')} must be a whole number of days from 0 to "
            f"{MAX_EXPIRY_WARNING_DAYS}, got {shown_value}; the default is {DEFAULT_EXPIRY_WARNING_DAYS}.",
            field="expiry_warning_days",
        )
    return days
