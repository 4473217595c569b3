"""A loopback HTTPS server with a throwaway test CA: a token endpoint and an API in one.

``POST`` answers with the access token ``tls-token``; ``GET`` answers 200 with JSON that says
whether that token came as the bearer. Shared by the core TLS tests and the trigger's.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.pki import make_server_pki

TOKEN = "tls-token"


class Handler(BaseHTTPRequestHandler):
    def _json(self, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._json({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600})

    def do_GET(self) -> None:
        self._json({"items": [1, 2, 3], "auth": self.headers.get("Authorization") == f"Bearer {TOKEN}"})

    def log_message(self, format: str, *args: object) -> None:
        return


@contextlib.contextmanager
def https_server(folder: Path) -> Iterator[tuple[str, Path]]:
    """``(base URL, CA bundle path)`` of a server whose certificate only that CA signed."""
    ca_path, cert_path, key_path = make_server_pki().write(folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", ca_path
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
