"""A minimal, fast paged JSON API with an AD FS-like token endpoint, counting what clients do.

Raw asyncio HTTP/1.1 with keep-alive, pages rendered once from templates and kept, so the
server's cost per page is a dictionary lookup and a socket write: the clients are what is
measured. Not a general HTTP server: it understands exactly what the competitors send.

Routes (``T`` records in total, ``L`` ms of latency per page):

- ``POST /adfs/oauth2/token/``: client credentials with a client assertion. Any well-formed
  assertion is accepted (RS256 header with ``x5t``; ``iss`` = ``sub`` = ``client_id``; ``aud``
  this URL; ``jti``; ``exp`` ahead); the signature is not checked, the shape is.
- ``GET /api/t{T}/l{L}/units?offset=&limit=``: ``{"total", "offset", "limit", "next", "items"}``;
  needs ``Authorization: Bearer`` with an issued token and the subscriber key header.
- ``GET /stats``: counters since the last ``POST /stats/reset``: TCP connections, token
  requests, page requests.

Run: ``python -m bench.server --port 0`` prints ``BENCH_SERVER http://127.0.0.1:<port>``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import re
import secrets
import sys
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.data import PAGE_SIZE, records_bytes

SUBSCRIPTION_HEADER = b"ocp-apim-subscription-key"
SUBSCRIPTION_KEY = "bench-subscriber-key"
CLIENT_ID = "5d3f0c1e-0b7a-4c8e-9b1d-3c2a1f000001"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PAGES = re.compile(r"^/api/t(\d+)/l(\d+)/units$")
#: Rendered pages kept: all of a million records (about 360 MB) and the smaller sets beside.
CACHE_PAGES = 1300


class Counters:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.connections = 0
        self.token_requests = 0
        self.page_requests = 0
        self.rejected = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


class BenchServer:
    def __init__(self) -> None:
        self.counters = Counters()
        self.tokens: set[str] = set()
        self.cache: dict[tuple[int, int, int], bytes] = {}
        self.base = ""

    # -- HTTP plumbing ---------------------------------------------------------------------
    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counters.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers: dict[bytes, bytes] = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower().encode()] = value.strip().encode("latin-1")
                length = int(headers.get(b"content-length", b"0"))
                body = await reader.readexactly(length) if length else b""
                status, payload = await self.route(method, target, headers, body)
                keep = headers.get(b"connection", b"keep-alive").lower() != b"close"
                head_out = (
                    b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
                    % (
                        status,
                        b"OK" if status == 200 else b"ERR",
                        len(payload),
                        b"" if keep else b"Connection: close\r\n",
                    )
                )
                writer.writelines((head_out, payload))
                await writer.drain()
                if not keep:
                    return
        except ConnectionError:
            return
        finally:
            writer.close()

    async def route(
        self, method: str, target: str, headers: dict[bytes, bytes], body: bytes
    ) -> tuple[int, bytes]:
        url = urlsplit(target)
        if method == "GET" and (match := PAGES.match(url.path)):
            return await self.page(int(match[1]), int(match[2]), url.query, headers)
        if method == "POST" and url.path == "/adfs/oauth2/token/":
            return self.token(body)
        if url.path == "/stats":
            if method == "POST":
                self.counters.reset()
            else:
                self.counters.connections -= 1  # the runner's own connection for this request
            return 200, json.dumps(self.counters.as_dict()).encode()
        if method == "POST" and url.path == "/warm":
            total = int(parse_qs(url.query)["total"][0])
            for offset in range(0, total, PAGE_SIZE):
                self.render(total, offset, PAGE_SIZE)
            return 200, b"{}"
        return 404, b'{"error":"not_found"}'

    # -- the API -----------------------------------------------------------------------------
    async def page(
        self, total: int, latency_ms: int, query: str, headers: dict[bytes, bytes]
    ) -> tuple[int, bytes]:
        auth = headers.get(b"authorization", b"")
        if not auth.startswith(b"Bearer ") or auth[7:].decode() not in self.tokens:
            self.counters.rejected += 1
            return 401, b'{"error":"invalid_token"}'
        if headers.get(SUBSCRIPTION_HEADER, b"").decode() != SUBSCRIPTION_KEY:
            self.counters.rejected += 1
            return 401, b'{"error":"subscription key missing"}'
        params = parse_qs(query)
        offset = int(params.get("offset", ["0"])[0])
        limit = min(int(params.get("limit", [str(PAGE_SIZE)])[0]), PAGE_SIZE)
        self.counters.page_requests += 1
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        return 200, self.render(total, offset, limit, latency_ms)

    def render(self, total: int, offset: int, limit: int, latency_ms: int = 0) -> bytes:
        key = (total, offset, limit)
        body = self.cache.get(key)
        if body is None:
            count = max(0, min(limit, total - offset))
            following = offset + limit < total
            nxt = (
                json.dumps(
                    f"{self.base}/api/t{total}/l{latency_ms}/units?offset={offset + limit}&limit={limit}"
                )
                if following
                else "null"
            )
            body = b'{"total":%d,"offset":%d,"limit":%d,"next":%s,"items":[%s]}' % (
                total,
                offset,
                limit,
                nxt.encode(),
                records_bytes(offset, count),
            )
            if latency_ms == 0:  # the next link names the latency; keep only one variant
                if len(self.cache) >= CACHE_PAGES:
                    self.cache.pop(next(iter(self.cache)))
                self.cache[key] = body
        return body

    def token(self, body: bytes) -> tuple[int, bytes]:
        self.counters.token_requests += 1
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        problem = check_token_request(form, f"{self.base}/adfs/oauth2/token/")
        if problem:
            self.counters.rejected += 1
            return 400, json.dumps({"error": "invalid_client", "error_description": problem}).encode()
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return 200, json.dumps({"access_token": token, "token_type": "bearer", "expires_in": 3600}).encode()


def _part(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def check_token_request(form: dict[str, str], audience: str) -> str | None:
    """What is wrong with a client-credentials request, or ``None``; the signature is not checked."""
    if form.get("grant_type") != "client_credentials":
        return "grant_type must be client_credentials"
    if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("resource"):
        return "client_assertion_type and resource are required"
    parts = form.get("client_assertion", "").split(".")
    if len(parts) != 3:
        return "client_assertion is not a JWT"
    try:
        header, claims = _part(parts[0]), _part(parts[1])
    except ValueError:
        return "client_assertion is not base64url JSON"
    if header.get("alg") != "RS256" or not header.get("x5t"):
        return "assertion header needs alg RS256 and x5t"
    client_id = form.get("client_id")
    if claims.get("iss") != client_id or claims.get("sub") != client_id or not claims.get("jti"):
        return "iss and sub must be the client id, jti is required"
    if claims.get("aud") != audience or float(claims.get("exp", 0)) < time.time():
        return "aud must be the token endpoint and exp in the future"
    return None


async def serve(host: str, port: int) -> None:
    app = BenchServer()
    server = await asyncio.start_server(app.handle, host, port, backlog=256)
    bound = server.sockets[0].getsockname()[1]
    app.base = f"http://{host}:{bound}"
    print(f"BENCH_SERVER {app.base}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description="The benchmark's fast paged API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        import uvloop  # comes with uvicorn[standard]; plain asyncio works too

        uvloop.install()
    except ImportError:
        pass
    try:
        asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
