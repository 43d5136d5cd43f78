"""HTTP 403 `insufficient_scope` for tools/call, before the MCP layer sees the request.

Inside the MCP layer a refusal can only be a JSON-RPC error; the MCP authorization spec wants
an HTTP 403 with a challenge, so clients can step up. This wrapper reads the (size-limited)
POST body, checks each tools/call in it against the principal, and replays the body onward.
Unknown and other-tenant tools pass: the MCP layer answers "Unknown tool" for both alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from catalog.snapshot import CatalogTool
from hub.asgi_body import read_body, replay
from hub.auth.challenge import Challenger
from hub.auth.middleware import principal_of
from hub.auth.principal import Principal
from hub.auth.scopes import Verdict, check_call, required_scopes

ToolLookup = Callable[[str], CatalogTool | None]


def missing_scopes(principal: Principal, body: bytes, lookup: ToolLookup) -> frozenset[str]:
    """Scopes the tools/call requests in `body` need and the principal lacks (empty: fine)."""
    try:
        decoded: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return frozenset()  # not ours to judge; the MCP layer answers a parse error
    messages = decoded if isinstance(decoded, list) else [decoded]
    missing: set[str] = set()
    for message in messages:
        name = _called_tool(message)
        if name is None:
            continue
        tool = lookup(name)
        if check_call(principal, tool) is Verdict.INSUFFICIENT_SCOPE and tool is not None:
            missing |= required_scopes(tool)
    return frozenset(missing)


def _called_tool(message: Any) -> str | None:
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return None
    params = message.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    return name if isinstance(name, str) else None


class ToolCallGuard:
    def __init__(self, app: ASGIApp, *, lookup: ToolLookup, challenger: Challenger) -> None:
        self._app = app
        self._lookup = lookup
        self._challenger = challenger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = principal_of(scope)
        if scope["type"] != "http" or scope["method"] != "POST" or principal is None:
            return await self._app(scope, receive, send)
        body = await read_body(receive)
        missing = missing_scopes(principal, body, self._lookup)
        if missing:
            return await self._challenger.insufficient_scope(send, missing)
        await self._app(scope, replay(body, receive), send)
