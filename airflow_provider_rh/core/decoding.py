"""Content decoding with memory bounded by the size cap, while decoding.

httpx decodes a whole network chunk at once, so a 1 KB gzip bomb (or ``gzip, gzip``, where the
ratios multiply) becomes a gigabyte before any cap is looked at. Here every coding layer hands
on at most :data:`STEP` bytes at a time, lazily, so the caller can count and refuse after each
step: peak memory is the cap plus a few steps per layer.

Only what can be decoded in bounded steps is asked for and accepted: ``gzip`` (``x-gzip``) and
``deflate`` (zlib or raw, as browsers accept), stacked at most :data:`MAX_CODINGS` deep.
``identity`` is no layer. Any other coding (``br``, ``zstd``, ``compress``) is refused: this
client never offers it (see :data:`ACCEPT_ENCODING`), so a server that sends it anyway is
misbehaving.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

#: Most decoded bytes one layer hands on at a time.
STEP = 64 * 1024
#: Most content codings stacked on one response (``gzip, gzip`` is two).
MAX_CODINGS = 2
#: Longest ``Content-Encoding`` header read.
MAX_CODING_HEADER_CHARS = 256
#: What this client offers in ``Accept-Encoding``: exactly what it can decode in bounded steps.
ACCEPT_ENCODING = "gzip, deflate"


class CodingError(Exception):
    """The body's coding is refused or the body is not valid in it; the message says which."""


class _Zlib:
    """gzip or deflate; a deflate body without the zlib header is read as raw deflate."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._first = coding == "deflate"
        wbits = zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS
        self._obj = zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self._obj.decompress(data, STEP)
            except zlib.error as exc:
                if not self._first:
                    raise CodingError(f"the body is not valid {self.coding} data ({exc})") from None
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as browsers accept
                self._first = False
                continue
            self._first = False
            if out:
                yield out
            data = self._obj.unconsumed_tail
            if not data and len(out) < STEP:
                return

    def finish(self) -> Iterator[bytes]:
        yield from self.feed(b"")
        try:
            rest = self._obj.flush(STEP)
        except zlib.error as exc:  # pragma: no cover - flush after a drained stream
            raise CodingError(f"the body is not valid {self.coding} data ({exc})") from None
        if rest:
            yield rest


def codings(header: str | None) -> list[str]:
    """The codings of a ``Content-Encoding`` value in the order applied; refuses what is not bounded."""
    if not header:
        return []
    if len(header) > MAX_CODING_HEADER_CHARS:
        raise CodingError(
            f"the Content-Encoding header is {len(header):,} characters; at most "
            f"{MAX_CODING_HEADER_CHARS:,} are read"
        )
    names = [name.strip().lower() for name in header.split(",")]
    names = [name for name in names if name and name != "identity"]
    for name in names:
        if name not in ("gzip", "x-gzip", "deflate"):
            raise CodingError(
                f"the body is sent with Content-Encoding {name[:40]!r}, which this provider does not "
                f"decode (it asks for {ACCEPT_ENCODING} only)"
            )
    if len(names) > MAX_CODINGS:
        raise CodingError(
            f"the body is compressed {len(names)} times over (Content-Encoding: {header[:80]}); at "
            f"most {MAX_CODINGS} layers are decoded"
        )
    return ["gzip" if name == "x-gzip" else name for name in names]


class BoundedDecoder:
    """Decodes a response body chunk by chunk, handing on at most :data:`STEP` bytes at a time.

    .. code-block:: python

        decoder = BoundedDecoder(response.headers.get("content-encoding"))
        for raw in response.iter_raw():
            for piece in decoder.decode(raw):
                body += piece  # check the cap here: at most STEP bytes came in
        for piece in decoder.flush(): ...
    """

    def __init__(self, content_encoding: str | None) -> None:
        # Decoding undoes the last coding applied first.
        self._layers = [_Zlib(name) for name in reversed(codings(content_encoding))]

    def decode(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield from _through(self._layers, data)

    def flush(self) -> Iterator[bytes]:
        for index, layer in enumerate(self._layers):
            for piece in layer.finish():
                yield from _through(self._layers[index + 1 :], piece)


def _through(layers: list[_Zlib], data: bytes) -> Iterator[bytes]:
    if not layers:
        # Identity: hand on in steps too, so one big network chunk is counted as it goes.
        for start in range(0, len(data), STEP):
            yield data[start : start + STEP]
        return
    for piece in layers[0].feed(data):
        yield from _through(layers[1:], piece)
