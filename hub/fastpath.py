"""A lean route for the two hot MCP methods, tools/call and tools/list.

The SDK's per-message machinery (pydantic models, task groups, streams) costs more CPU than
the whole upstream call. This ASGI app answers plain, well-formed tools/call and tools/list
POSTs itself, with the same results the SDK handlers give, and hands everything else —
initialize, notifications, GET streams, other methods, anything unusual — to the SDK
untouched (the buffered body is replayed). The conformance suite runs against this route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    InboundLadderRejection,
    classify_inbound_request,
    find_duplicated_routing_header,
)
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.asgi_body import read_body, replay
from hub.auth.middleware import principal_of
from hub.auth.principal import Principal
from hub.tool_calls import ToolCallError

FAST_METHODS = frozenset({"tools/call", "tools/list"})
_LEGACY_VERSIONS = frozenset(v.encode() for v in HANDSHAKE_PROTOCOL_VERSIONS)
_MODERN_VERSIONS = frozenset(v.encode() for v in MODERN_PROTOCOL_VERSIONS)
_PARAM_HEADER_PREFIX = b"mcp-param-"

# What the SDK adds to results on the 2026-07-28 wire (tools/list carries the server's cache hint).
_MODERN_EXTRAS: dict[str, dict[str, Any]] = {
    "tools/call": {"resultType": "complete"},
    "tools/list": {"resultType": "complete", "ttlMs": 0, "cacheScope": "private"},
}

Handler = Callable[[str, dict[str, Any], Any], Any]  # async (method, params, principal|None) -> result


class FastPath:
    def __init__(
        self,
        sdk_app: ASGIApp,
        sessions: StreamableHTTPSessionManager,
        handle: Handler,
        server_info: dict[str, Any],
    ) -> None:
        self._sdk_app = sdk_app
        self._sessions = sessions
        self._handle = handle
        self._server_info_meta = {"io.modelcontextprotocol/serverInfo": server_info}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            return await self._sdk_app(scope, receive, send)
        headers = dict(scope["headers"])
        era = self._era(headers, scope["headers"])
        if era is None:
            return await self._sdk_app(scope, receive, send)
        # Oversized bodies never get here whole: the BodySizeLimit guard in front raises first.
        body = await read_body(receive)
        message = _plain_request(body)
        if message is None or (era == "modern" and not _modern_ok(message, headers)):
            return await self._sdk_app(scope, replay(body, receive), send)
        await self._answer(era, message, headers, send, principal_of(scope))

    def _era(self, headers: dict[bytes, bytes], raw: list[tuple[bytes, bytes]]) -> str | None:
        if not _accepts_json_and_sse(headers.get(b"accept", b"")):
            return None
        if not headers.get(b"content-type", b"").startswith(b"application/json"):
            return None
        version = headers.get(b"mcp-protocol-version")
        if version in _MODERN_VERSIONS:
            if any(name.startswith(_PARAM_HEADER_PREFIX) for name, _ in raw):
                return None  # Mcp-Param-* header validation stays with the SDK
            if find_duplicated_routing_header((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw):
                return None
            return "modern"
        session_id = headers.get(b"mcp-session-id")
        if session_id is None or (version is not None and version not in _LEGACY_VERSIONS):
            return None
        if session_id.decode("latin-1") not in self._sessions._server_instances:
            return None  # unknown or ended session: the SDK answers 404
        return "legacy"

    async def _answer(
        self,
        era: str,
        message: dict[str, Any],
        headers: dict[bytes, bytes],
        send: Send,
        principal: Principal | None,
    ) -> None:
        params = message.get("params") or {}
        try:
            result = await self._handle(message["method"], params, principal)
            if era == "modern":
                result = {**result, **_MODERN_EXTRAS[message["method"]], "_meta": self._server_info_meta}
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"], "result": result}
        except ToolCallError as exc:
            reply = {
                "jsonrpc": "2.0",
                "id": message["id"],
                "error": {"code": exc.code, "message": exc.message},
            }
        status = 200
        if era == "modern" and "error" in reply:
            status = ERROR_CODE_HTTP_STATUS.get(reply["error"]["code"], 200)
        extra = [] if era == "modern" else [(b"mcp-session-id", headers[b"mcp-session-id"])]
        await _send_json(send, status, orjson.dumps(reply), extra)


def _accepts_json_and_sse(accept: bytes) -> bool:
    types = {part.split(b";")[0].strip().lower() for part in accept.split(b",")}
    if b"*/*" in types:
        return True
    json_ok = b"application/json" in types or b"application/*" in types
    sse_ok = b"text/event-stream" in types or b"text/*" in types
    return json_ok and sse_ok


def _plain_request(body: bytes) -> dict[str, Any] | None:
    """The decoded body if it is one well-formed tools/call or tools/list request, else None."""
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return None
    if message.get("method") not in FAST_METHODS or not isinstance(message.get("id"), str | int):
        return None
    params = message.get("params", {})
    if isinstance(message["id"], bool) or not isinstance(params, dict):
        return None
    return message if _plain_params(message["method"], params) else None


def _plain_params(method: str, params: dict[str, Any]) -> bool:
    """Whether the params have the shape the SDK accepts; any other shape gets the SDK's own error.

    (Without this, falsy non-object `arguments` such as `[]`, `""` or `0` were called as `{}`.)
    """
    if not isinstance(params.get("_meta", {}), dict):
        return False
    if method == "tools/list":
        return isinstance(params.get("cursor"), str | None)
    return isinstance(params.get("name"), str) and isinstance(params.get("arguments"), dict | None)


def _modern_ok(message: dict[str, Any], headers: dict[bytes, bytes]) -> bool:
    text_headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers.items()}
    verdict = classify_inbound_request(message, headers=text_headers)
    return not isinstance(verdict, InboundLadderRejection)


async def _send_json(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
