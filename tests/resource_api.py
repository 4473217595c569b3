"""A tiny resource server for token tests: accepts a call only with a valid JWT for its resource
(verified against the OpenID Provider's JWKS) and the right subscriber key."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def resource_api(
    verify_token: Callable[[str], dict[str, Any]],
    *,
    subscription_key: str,
    header: str = "Ocp-Apim-Subscription-Key",
) -> Iterator[str]:
    """Serve ``GET /api/*`` on 127.0.0.1; yields the base URL. ``verify_token`` raises on a bad token."""
    calls: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get(header) != subscription_key:
                return self._send(
                    401, {"statusCode": 401, "message": "Access denied due to invalid subscription key."}
                )
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer "):
                return self._send(
                    401, {"statusCode": 401, "message": "Unauthorized. Access token is missing or invalid."}
                )
            try:
                claims = verify_token(auth[len("Bearer ") :])
            except Exception:
                return self._send(
                    401, {"statusCode": 401, "message": "Unauthorized. Access token is missing or invalid."}
                )
            calls.append(claims)
            return self._send(200, {"path": self.path, "client_id": claims.get("client_id")})

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
