"""Request bodies read with a cap: a client cannot make the sandbox hold more than the cap.

``await request.body()`` keeps everything a client sends; a 256 MB token request grew the
process by about 1 GB. :func:`read_body` refuses a declared ``Content-Length`` over the cap
before reading anything, and stops reading a body sent without one (chunked) as soon as it
passes the cap, so at most the cap plus one received chunk is ever held.

Caps: :data:`MAX_TOKEN_BODY` for the token endpoint (a form with a client assertion is a few
KiB), :data:`MAX_BODY` for any other endpoint that reads a body. Endpoints that do not read the
body (every GET of the sample API) never buffer it: the server's flow control holds it back.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

#: The largest token request body read, in bytes (64 KiB).
MAX_TOKEN_BODY = 64 * 1024
#: The largest request body read by any other endpoint, in bytes (1 MiB).
MAX_BODY = 1024 * 1024


class BodyTooLarge(Exception):
    """A request body is over its endpoint's cap; :meth:`response` is the 413 to answer."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        told = f" (Content-Length: {declared})" if declared is not None else ""
        super().__init__(f"The request body is larger than {limit} bytes{told}.")
        self.limit = limit

    def response(self) -> JSONResponse:
        body = {"statusCode": 413, "error": "request_too_large", "message": str(self)}
        return JSONResponse(body, 413, headers={"Connection": "close"})


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request's body, at most ``limit`` bytes; :class:`BodyTooLarge` beyond that."""
    declared = request.headers.get("content-length", "").strip()
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise BodyTooLarge(limit, int(declared[:19]))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)
