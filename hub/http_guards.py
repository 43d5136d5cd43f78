"""ASGI guards in front of every route: header value trimming, Host/Origin allow-lists, body size limits."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _matches(value: str, patterns: Sequence[str]) -> bool:
    for pattern in patterns:
        if pattern.endswith(":*"):
            if value.startswith(pattern[:-1]):
                return True
        elif value == pattern:
            return True
    return False


async def _reject(send: Send, status: int, message: str) -> None:
    body = orjson.dumps({"error": {"type": "rejected", "message": message}})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_OWS = (b" ", b"\t")


class TrimHeaderValues:
    """Strips leading/trailing whitespace from request header values (RFC 9110 section 5.5).

    A field value never includes its surrounding whitespace, but uvicorn's default parser
    (httptools) keeps trailing whitespace (h11 strips it). Unstripped, `Mcp-Name: tool ` fails the
    SDK's exact header/body comparison (-32020) and a Host header would fail the allow-list.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and any(v[-1:] in _OWS or v[:1] in _OWS for _, v in scope["headers"]):
            scope = {**scope, "headers": [(k, v.strip(b" \t")) for k, v in scope["headers"]]}
        await self.app(scope, receive, send)


class HostOriginGuard:
    """DNS-rebinding protection for the whole app: 421 for an unknown Host, 403 for a foreign Origin."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str], allowed_origins: Sequence[str]) -> None:
        self.app = app
        self.allowed_hosts = list(allowed_hosts)
        self.allowed_origins = list(allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "*" not in self.allowed_hosts:
            headers = dict(scope["headers"])
            host = headers.get(b"host", b"").decode("latin-1")
            origin = headers.get(b"origin", b"").decode("latin-1")
            if not _matches(host, self.allowed_hosts):
                return await _reject(send, 421, "Invalid Host header")
            if origin and not _matches(origin, self.allowed_origins):
                return await _reject(send, 403, "Invalid Origin header")
        await self.app(scope, receive, send)


class BodySizeLimit:
    """413 for bodies over the limit, by Content-Length up front and by counting while streaming."""

    def __init__(self, app: ASGIApp, default_limit: int, prefix_limits: dict[str, int]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.prefix_limits = prefix_limits

    def _limit_for(self, path: str) -> int:
        for prefix, limit in self.prefix_limits.items():
            if path.startswith(prefix):
                return limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self._limit_for(scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await _reject(send, 413, f"request body exceeds {limit} bytes")
        await self.app(scope, _counting_receive(receive, limit), send)


class BodyTooLarge(Exception):
    pass


def _counting_receive(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(f"request body exceeds {limit} bytes")
        return message

    return wrapped
