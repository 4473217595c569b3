"""A tiny loopback HTTP/1.1 server that misbehaves on purpose: trickles, floods, compresses.

A real socket server in a thread (no mocks), so the client's deadline and size cap are tested
against real reads. Every loop is bounded and stops when the client goes away or the server is
stopped.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Behaviour = Callable[[socket.socket, threading.Event], None]

TRICKLE_INTERVAL = 0.05
TRICKLE_MAX_BYTES = 100_000


def _send(conn: socket.socket, data: bytes) -> bool:
    try:
        conn.sendall(data)
        return True
    except OSError:
        return False


def trickle_body(conn: socket.socket, stop: threading.Event) -> None:
    """Headers at once, then one byte of the body per interval."""
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {TRICKLE_MAX_BYTES}\r\n\r\n"
    if not _send(conn, head.encode()):
        return
    for _ in range(TRICKLE_MAX_BYTES):
        if stop.wait(TRICKLE_INTERVAL) or not _send(conn, b" "):
            return


def trickle_headers(conn: socket.socket, stop: threading.Event) -> None:
    """The status line and headers one byte per interval, never finishing."""
    data = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * TRICKLE_MAX_BYTES
    for byte in data:
        if stop.wait(TRICKLE_INTERVAL) or not _send(conn, bytes([byte])):
            return


def json_body(payload: object, status: str = "200 OK") -> Behaviour:
    body = json.dumps(payload).encode()

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        _send(conn, head.encode() + b"Connection: close\r\n\r\n" + body)

    return behave


def declared_size(size: int) -> Behaviour:
    """A Content-Length of ``size``, then a body as fast as the socket takes it (bounded)."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
        if not _send(conn, head.encode()):
            return
        chunk, sent = b"x" * 65536, 0
        while sent < size and not stop.is_set() and _send(conn, chunk[: size - sent]):
            sent += len(chunk)

    return behave


def chunked(total: int) -> Behaviour:
    """Chunked transfer without a length, ``total`` bytes in 64 KiB chunks."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        if not _send(
            conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        ):
            return
        chunk, sent = b"y" * 65536, 0
        while sent < total and not stop.is_set():
            if not _send(conn, b"%x\r\n%s\r\n" % (len(chunk), chunk)):
                return
            sent += len(chunk)
        _send(conn, b"0\r\n\r\n")

    return behave


def gzip_bomb(decoded_size: int) -> Behaviour:
    """A small gzip body that decodes to ``decoded_size`` bytes."""
    body = gzip.compress(b"\0" * decoded_size)

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        _send(conn, head.encode() + body)

    return behave


def _read_request(conn: socket.socket) -> str | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > 1_000_000:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        (int(v) for k, _, v in (h.partition(":") for h in lines[1:]) if k.lower() == "content-length"), 0
    )
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return lines[0].split(" ")[1].split("?")[0]


class SlowServer:
    """Routes path -> behaviour; ``connections`` counts requests per path."""

    def __init__(self, routes: dict[str, Behaviour]) -> None:
        self.routes = routes
        self.connections: dict[str, int] = {}
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            try:
                path = _read_request(conn)
            except OSError:
                return
            if path is None:
                return
            with self._lock:
                self.connections[path] = self.connections.get(path, 0) + 1
            behaviour = self.routes.get(path, json_body({"error": "not found"}, "404 Not Found"))
            behaviour(conn, self._stop)

    @contextmanager
    def running(self) -> Iterator[SlowServer]:
        server = threading.Thread(target=self._serve, daemon=True)
        server.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._sock.close()
            server.join(timeout=10)
            for thread in self._threads:
                thread.join(timeout=10)
