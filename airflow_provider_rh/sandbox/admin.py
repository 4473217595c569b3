"""The sandbox's stand-in for the region's registration desk: certificates registered later.

A certificate rotation is rehearsed with it (docs/rotation.md): register the next certificate
for the client while the current one stays registered, or remove either::

    curl -X POST --data-binary @minklient.next.crt.pem \\
        http://127.0.0.1:8765/sandbox/admin/clients/<client id>/certificates
    curl http://127.0.0.1:8765/sandbox/admin/clients/<client id>/certificates
    curl -X DELETE http://127.0.0.1:8765/sandbox/admin/clients/<client id>/certificates/<x5t>

Only loopback callers are served: the real registration is done by people, not by an API.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from airflow_provider_rh.sandbox.context import Context

PREFIX = "/sandbox/admin"
#: A PEM certificate (with a chain) is a few KB.
MAX_CERTIFICATE_BYTES = 64 * 1024
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _refusal(request: Request) -> Response | None:
    host = request.client.host if request.client else ""
    if host not in _LOOPBACK:
        return JSONResponse({"error": "the sandbox's admin endpoints serve loopback callers only"}, 403)
    return None


async def _bounded_body(request: Request) -> bytes | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_CERTIFICATE_BYTES:
            return None
    return body


def routes(ctx: Context) -> list[Route]:
    """Admin routes bound to ``ctx``'s registry."""

    def listing(client_id: str) -> Response:
        client = ctx.registry.client(client_id)
        if client is None:
            return JSONResponse({"error": f"no client with id {client_id!r}"}, 404)
        certificates = [
            {
                "x5t": thumbprint,
                "subject": cert.subject.rfc4514_string(),
                "not_valid_after": cert.not_valid_after_utc.isoformat(),
            }
            for thumbprint, cert in client.certificates.items()
        ]
        return JSONResponse({"client_id": client_id, "certificates": certificates})

    async def certificates(request: Request) -> Response:
        refused = _refusal(request)
        if refused is not None:
            return refused
        client_id = request.path_params["client_id"]
        if request.method == "GET":
            return listing(client_id)
        body = await _bounded_body(request)
        if body is None:
            return JSONResponse({"error": f"more than {MAX_CERTIFICATE_BYTES} bytes"}, 413)
        try:
            thumbprint = ctx.registry.add_certificate(client_id, body.decode("ascii"))
        except KeyError:
            return JSONResponse({"error": f"no client with id {client_id!r}"}, 404)
        except (UnicodeDecodeError, ValueError):
            return JSONResponse({"error": "the body must be one PEM certificate"}, 400)
        response = listing(client_id)
        response.status_code = 201
        response.headers["X-Registered-X5t"] = thumbprint
        return response

    async def certificate(request: Request) -> Response:
        refused = _refusal(request)
        if refused is not None:
            return refused
        client_id, thumbprint = request.path_params["client_id"], request.path_params["x5t"]
        if not ctx.registry.remove_certificate(client_id, thumbprint):
            return JSONResponse({"error": f"client {client_id!r} has no certificate {thumbprint!r}"}, 404)
        return listing(client_id)

    return [
        Route(f"{PREFIX}/clients/{{client_id}}/certificates", certificates, methods=["GET", "POST"]),
        Route(f"{PREFIX}/clients/{{client_id}}/certificates/{{x5t}}", certificate, methods=["DELETE"]),
    ]
