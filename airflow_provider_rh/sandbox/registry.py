"""Who may ask for what: registered clients, resources (relying parties) and subscription keys.

Mirrors the region's manual registration: a client is a GUID plus the certificates it signs
with; a resource is a bare identifier with scopes; a client is granted scopes per resource.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cryptography import x509

from airflow_provider_rh.sandbox import pki


@dataclass(frozen=True)
class Client:
    """A registered client; ``certificates`` are keyed by their ``x5t`` thumbprint."""

    client_id: str
    name: str
    certificates: Mapping[str, x509.Certificate]


@dataclass(frozen=True)
class Resource:
    """A relying party: its identifier, the scopes it knows and what each client may have."""

    identifier: str
    scopes: frozenset[str]
    grants: Mapping[str, frozenset[str]] = field(default_factory=dict)


class Registry:
    """Thread-safe store of clients, resources and subscription keys."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, Client] = {}
        self._resources: dict[str, Resource] = {}
        self._subscription_keys: set[str] = set()

    def register_client(
        self,
        certificate_pem: str | Iterable[str],
        *,
        client_id: str | None = None,
        name: str = "client.example.se",
    ) -> str:
        """Register (or replace) a client with one or more certificates; returns its client id."""
        pems = [certificate_pem] if isinstance(certificate_pem, str) else list(certificate_pem)
        if not pems:
            raise ValueError("a client needs at least one certificate")
        certificates = {pki.x5t(cert): cert for cert in map(pki.load_certificate, pems)}
        client = Client(client_id=client_id or str(uuid.uuid4()), name=name, certificates=certificates)
        with self._lock:
            self._clients[client.client_id] = client
        return client.client_id

    def register_resource(
        self,
        identifier: str,
        *,
        scopes: Iterable[str],
        allowed_clients: Iterable[str] | Mapping[str, Iterable[str]] = (),
    ) -> None:
        """Register (or replace) a resource.

        ``allowed_clients`` is client ids (granted every scope of the resource) or a mapping of
        client id to the scopes it is granted.
        """
        known = frozenset(scopes)
        if isinstance(allowed_clients, Mapping):
            grants = {cid: frozenset(granted) & known for cid, granted in allowed_clients.items()}
        else:
            grants = dict.fromkeys(allowed_clients, known)
        with self._lock:
            self._resources[identifier] = Resource(identifier=identifier, scopes=known, grants=grants)

    def add_certificate(self, client_id: str, certificate_pem: str) -> str:
        """Register one more certificate for a client (a rotation); returns its ``x5t``.

        A client may hold several certificates at once, as AD FS allows while one replaces another.
        """
        certificate = pki.load_certificate(certificate_pem)
        thumbprint = pki.x5t(certificate)
        with self._lock:
            client = self._clients.get(client_id)
            if client is None:
                raise KeyError(client_id)
            certificates = {**client.certificates, thumbprint: certificate}
            self._clients[client_id] = Client(client.client_id, client.name, certificates)
        return thumbprint

    def remove_certificate(self, client_id: str, thumbprint: str) -> bool:
        """Unregister a client's certificate by ``x5t``; False when it was not registered."""
        with self._lock:
            client = self._clients.get(client_id)
            if client is None or thumbprint not in client.certificates:
                return False
            certificates = {k: v for k, v in client.certificates.items() if k != thumbprint}
            self._clients[client_id] = Client(client.client_id, client.name, certificates)
        return True

    def add_subscription_key(self, key: str) -> None:
        """Accept ``key`` at the gateway."""
        with self._lock:
            self._subscription_keys.add(key)

    def client(self, client_id: str) -> Client | None:
        with self._lock:
            return self._clients.get(client_id)

    def resource(self, identifier: str) -> Resource | None:
        with self._lock:
            return self._resources.get(identifier)

    def has_subscription_key(self, key: str) -> bool:
        with self._lock:
            return key in self._subscription_keys
