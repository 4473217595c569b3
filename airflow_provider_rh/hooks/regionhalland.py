"""Airflow hook for Region Halland's APIs: a thin shell over the Airflow-free core.

The hook reads the connection once into a :class:`~airflow_provider_rh.core.config.ClientConfig`,
registers the connection's secrets with Airflow's secrets masker, and hands the protocol work to
:class:`~airflow_provider_rh.core.oauth.TokenProvider` and
:class:`~airflow_provider_rh.core.client.ApiClient`.

Which secrets go to Airflow's masker, and why not all of them: the masker compiles one regular
expression over every secret it holds, again each time one is added, so registering each client
assertion and access token made a long-running triggerer slower with every token (72 ms per
token at first, 524 ms after 250) and its memory grow for ever. So Airflow's masker gets the
long-lived secrets (subscriber key, private key, passphrase), which any log line may carry, and
the tokens :meth:`RegionHallandHook.get_token` hands to the caller's own code, which may print
them (a task process is short-lived; a trigger never calls it). Assertions and tokens the
provider only puts into its own requests never reach a log line except through the provider's
errors and server text, and those pass :mod:`airflow_provider_rh.core.redact`, which knows every
one of them (and every fragment) until it expires.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import httpx

from airflow_provider_rh._compat import BaseHook, mask_secret
from airflow_provider_rh.core.client import ApiClient
from airflow_provider_rh.core.config import ClientConfig, check_resource, check_scopes, connection_secrets
from airflow_provider_rh.core.credentials import certificate_fingerprint
from airflow_provider_rh.core.fields import describe
from airflow_provider_rh.core.http import make_async_client
from airflow_provider_rh.core.oauth import TokenProvider
from airflow_provider_rh.core.retry import RetryPolicy
from airflow_provider_rh.core.rotation import acceptance, certificate_lines, days_phrase
from airflow_provider_rh.exceptions import ConfigurationError, RegionHallandError
from airflow_provider_rh.get_provider_info import CONN_FIELDS, CONN_TYPE, HOOK_NAME, UI_FIELD_BEHAVIOUR
from airflow_provider_rh.hooks._shared_tokens import shared_token_cache

if TYPE_CHECKING:
    from collections.abc import Mapping


def _provider_secret(_: str) -> None:
    """Assertions and tokens the provider only sends: :mod:`~airflow_provider_rh.core.redact` has
    them already (short-lived, until they expire); Airflow's masker is not told (see above)."""
    return None


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every log; for a PEM also its body on one line (as some tools print it).

    Not each PEM line on its own: Airflow's masker recompiles one regex per added secret, so
    dozens of lines per key would cost most of a second at every task start.
    """
    if not value:
        return
    mask_secret(value)
    if "\n" in value:
        body = "".join(
            line.strip() for line in value.splitlines() if line.strip() and not line.startswith("-----")
        )
        if len(body) >= 16:
            mask_secret(body)


class RegionHallandHook(BaseHook):
    """Calls a Region Halland API with a per-resource OAuth2 token and the subscriber key.

    Tokens come from the client credentials grant with a certificate-signed client assertion
    (AD FS style), one per resource id, cached in the process until shortly before expiry.

    .. code-block:: python

        hook = RegionHallandHook()  # regionhalland_conn_id="regionhalland_default"
        units = hook.request("GET", "/units", params={"limit": 100}).json()
        other = hook.get_token(resource="annatapi.regionhalland.se", scopes="annatapi.read")
    """

    conn_name_attr = "regionhalland_conn_id"
    default_conn_name = "regionhalland_default"
    conn_type = CONN_TYPE
    hook_name = HOOK_NAME

    def __init__(
        self,
        regionhalland_conn_id: str = default_conn_name,
        *,
        resource: str | None = None,
        scopes: str | list[str] | None = None,
        retry: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.regionhalland_conn_id = regionhalland_conn_id
        self.resource = resource
        self.scopes = scopes
        self._retry = retry

    # -- configuration ---------------------------------------------------------------------
    @cached_property
    def config(self) -> ClientConfig:
        """The connection, parsed and checked; secrets are masked as soon as they are read."""
        conn = self.get_connection(self.regionhalland_conn_id)
        extra = raw_extra(conn)
        for secret in connection_secrets(conn.password, extra):
            register_secret(secret)
        return config_from_connection(conn.host, conn.login, conn.password, extra, conn.port)

    async def aget_config(self) -> ClientConfig:
        """:attr:`config`, loaded from async code (a trigger) without blocking the event loop.

        Reading the connection and masking its secrets may wait on the supervisor or a secrets
        backend synchronously, so that runs in a worker thread (``sync_to_async``, as Airflow's
        own triggers do); afterwards :attr:`config` is cached and :meth:`arequest` can use it.
        """
        if "config" not in self.__dict__:
            from asgiref.sync import sync_to_async

            await sync_to_async(lambda: self.config)()
        return self.config

    @cached_property
    def tokens(self) -> TokenProvider:
        cache = shared_token_cache(self.config)  # opt-in: [regionhalland] shared_token_cache
        return TokenProvider(self.config, retry=self._retry, on_secret=_provider_secret, cache=cache)

    @cached_property
    def client(self) -> ApiClient:
        return ApiClient(self.config, tokens=self.tokens)

    def get_conn(self) -> ApiClient:
        """The core API client (Airflow's hook convention)."""
        return self.client

    @property
    def base_url(self) -> str:
        if self.config.base_url is None:
            raise ConfigurationError(
                f"Connection {self.regionhalland_conn_id!r}: {describe('host')} is empty; set the API "
                "base URL, e.g. https://api.example.se/hsainfo/v1.",
                field="host",
            )
        return self.config.base_url

    # A templated resource or scopes argument is checked when the DAG is parsed for its type
    # only; its rendered value arrives here, and is checked before it is sent anywhere.
    def _resource(self, resource: str | None) -> str | None:
        value = resource if resource is not None else self.resource
        if value is not None:
            check_resource(value, "resource", argument=True)
        return value

    def _scopes(self, scopes: str | list[str] | None) -> str | list[str] | None:
        value = scopes if scopes is not None else self.scopes
        if value is not None:
            check_scopes(value, "scopes", argument=True)
        return value

    # -- public API ------------------------------------------------------------------------
    def get_token(self, resource: str | None = None, scopes: str | list[str] | None = None) -> str:
        """An access token for ``resource`` (default: the hook's, then the connection's).

        Registered with Airflow's secrets masker, since the caller's code may log it.
        """
        token = self.tokens.get_token(self._resource(resource), self._scopes(scopes)).value
        register_secret(token)
        return token

    def request(
        self,
        method: str,
        path: str = "",
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        resource: str | None = None,
        scopes: str | list[str] | None = None,
        timeout: float | None = None,
        raise_for_status: bool = True,
    ) -> httpx.Response:
        """Call the API: ``path`` is relative to the connection's host; same-origin URLs allowed."""
        return self.client.request(
            method,
            path,
            params=params,
            headers=headers,
            json=json,
            data=data,
            resource=self._resource(resource),
            scopes=self._scopes(scopes),
            timeout=timeout,
            raise_for_status=raise_for_status,
        )

    async def arequest(
        self,
        method: str,
        path: str = "",
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        resource: str | None = None,
        scopes: str | list[str] | None = None,
        timeout: float | None = None,
        raise_for_status: bool = True,
        client: httpx.AsyncClient | None = None,
    ) -> httpx.Response:
        """Async twin of :meth:`request` (for triggers); the connection is read off the event loop."""
        cfg = await self.aget_config()
        if client is None:
            async with make_async_client(cfg) as own:
                return await self.arequest(
                    method,
                    path,
                    params=params,
                    headers=headers,
                    json=json,
                    resource=resource,
                    scopes=scopes,
                    timeout=timeout,
                    raise_for_status=raise_for_status,
                    client=own,
                )
        return await self.client.arequest(
            client,
            method,
            path,
            params=params,
            headers=headers,
            json=json,
            resource=self._resource(resource),
            scopes=self._scopes(scopes),
            timeout=timeout,
            raise_for_status=raise_for_status,
        )

    def test_connection(self) -> tuple[bool, str]:
        """Check in stages and name the stage that failed: configuration, certificate, token
        endpoint, token for the default resource, and one authenticated API call."""
        stage = "configuration"
        try:
            cfg = self.config
            stage = "certificate"
            creds = self.tokens.credentials
            cert_note = (
                f"certificate {creds.subject} (SHA-256 {certificate_fingerprint(creds.certificate)[:23]}...) "
                f"valid until {creds.not_valid_after:%Y-%m-%d}"
            )
            signers = self.tokens.rotation.signers
            now = self.tokens.rotation.now()
            cert_note += f" ({days_phrase(signers.current.days_left(now))})"
            stage = "next certificate"
            if signers.next_error is not None:
                raise signers.next_error
            stage = "token endpoint"
            endpoint = self.tokens.token_endpoint()
            stage = "token"
            resource = self._resource(None) or cfg.resource
            self.tokens.get_token(resource, self._scopes(None))
            if signers.next is not None:
                stage = "rotation"
                scopes = self._scopes(None)
                verdicts = acceptance(
                    signers,
                    lambda signer: self.tokens.fetch_signed_by(signer.credentials, resource, scopes),
                    now=now,
                )
                cert_note = "; ".join(
                    f"{line}, AD FS: {verdicts[signer.role]}"
                    for line, signer in zip(certificate_lines(signers, now=now), signers.all, strict=False)
                )
            stage = "API call"
            if cfg.base_url is None:
                return False, f"API call failed: {describe('host')} is empty; set the API base URL."
            response = self.client.request("GET", cfg.test_path or "", raise_for_status=True)
        except RegionHallandError as exc:
            return False, f"{stage} check failed: {exc}"
        return True, (
            f"Connection OK: {cert_note}; token for resource {resource!r} from {endpoint}; "
            f"GET {response.request.url.copy_with(query=None)} answered {response.status_code}."
        )

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()
        elif "tokens" in self.__dict__:
            self.tokens.close()

    # -- connection form for Airflow 3.0 and 3.1 (3.2+ reads get_provider_info) ---------------
    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Form fields for Airflow 3.0/3.1, built from the same declaration as ``conn-fields``.

        Airflow >= 3.2 never calls this (it reads ``get_provider_info``); where the form
        libraries are not installed there is no form to build, so nothing is returned.
        """
        try:
            from flask_babel import lazy_gettext
            from wtforms import BooleanField, PasswordField, StringField
        except ImportError:
            return {}
        try:
            from flask_appbuilder.fieldwidgets import (
                BS3PasswordFieldWidget,
                BS3TextAreaFieldWidget,
                BS3TextFieldWidget,
            )
        except ImportError:  # plain wtforms widgets still render
            BS3PasswordFieldWidget = BS3TextAreaFieldWidget = BS3TextFieldWidget = None

        def widget(kind: Any) -> dict[str, Any]:
            return {"widget": kind()} if kind is not None else {}

        widgets: dict[str, Any] = {}
        for name, spec in CONN_FIELDS.items():
            schema = spec["schema"]
            fmt = schema.get("format")
            label = lazy_gettext(spec["label"])
            description = spec.get("description", "")
            default = {"default": schema["default"]} if "default" in schema else {}
            if "boolean" in schema["type"]:
                field = BooleanField(label, description=description, **default)
            elif fmt == "password":
                field = PasswordField(label, description=description, **widget(BS3PasswordFieldWidget))
            elif fmt == "multiline":
                field = StringField(label, description=description, **widget(BS3TextAreaFieldWidget))
            else:
                field = StringField(label, description=description, **default, **widget(BS3TextFieldWidget))
            widgets[name] = field
        return widgets

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Labels and placeholders of the standard fields (Airflow 3.0/3.1's spelling of the
        declaration's ``ui-field-behaviour``)."""
        return {
            "hidden_fields": list(UI_FIELD_BEHAVIOUR["hidden-fields"]),
            "relabeling": dict(UI_FIELD_BEHAVIOUR["relabeling"]),
            "placeholders": dict(UI_FIELD_BEHAVIOUR["placeholders"]),
        }


def raw_extra(conn: Any) -> Any:
    """The connection's extra as stored: its JSON text when there is one, else the parsed dict.

    ``Connection.extra_dejson`` turns invalid JSON into ``{}`` (and only logs), which would be
    reported as a missing token endpoint; the raw text lets the parser say what is wrong.
    """
    # ``extra`` first: on Airflow's own Connection model (what secrets backends return) it
    # decrypts, while ``_extra`` holds the Fernet ciphertext once a Fernet key is set.
    for name in ("extra", "_extra"):
        value = getattr(conn, name, None)
        if isinstance(value, str):
            return value
    return conn.extra_dejson


def config_from_connection(
    host: str | None, login: str | None, password: str | None, extra: Any, port: int | None = None
) -> ClientConfig:
    """Parse connection fields; ``extra`` may be a dict or its JSON text."""
    return ClientConfig.from_connection_fields(
        host=host, login=login, password=password, extra=extra, port=port
    )
