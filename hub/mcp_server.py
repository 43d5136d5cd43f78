"""The MCP server (SDK low-level `Server`) over the catalog: both protocol eras, list_changed."""

from __future__ import annotations

import asyncio
from collections.abc import Container
from typing import Any

import mcp_types as types
from mcp.server import Server
from mcp.server.caching import CacheHint
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions
from mcp.server.models import InitializationOptions
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ToolsListChanged
from mcp.shared.exceptions import MCPError

from catalog.snapshot import CatalogSnapshot
from hub.auth.middleware import principal_of
from hub.auth.principal import Principal
from hub.catalog_sync import CatalogHolder
from hub.fastpath import Handler as FastHandler
from hub.tool_calls import INVALID_PARAMS, ToolCaller, ToolCallError
from hub.tool_lists import ToolLister

SERVER_NAME = "mcphub"
SERVER_VERSION = "0.1.0"


class HubServer(Server[Any]):
    """Advertises tools.listChanged on the handshake era (the SDK's default does not)."""

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        options = notification_options or NotificationOptions(tools_changed=True)
        return super().create_initialization_options(options, experimental_capabilities, extensions)


_PRUNE_EVERY = 64


class ListChangedNotifier:
    """Tells connected clients that the tool list changed, on whichever channel their era has."""

    def __init__(self, bus: InMemorySubscriptionBus) -> None:
        self._bus = bus
        self._sessions: dict[str, ServerSession] = {}
        self._live_http: Container[str] | None = None

    def track_http_sessions(self, live: Container[str]) -> None:
        """The transport's live session ids, so ended sessions are forgotten without a catalog change."""
        self._live_http = live

    def remember(self, key: str | None, session: ServerSession) -> None:
        if key is None:
            return
        if len(self._sessions) % _PRUNE_EVERY == 0:
            self._forget_ended_http_sessions()
        self._sessions[key] = session

    def _forget_ended_http_sessions(self) -> None:
        live = self._live_http
        if live is not None:
            for key in [k for k in self._sessions if k.startswith("http:") and k[5:] not in live]:
                del self._sessions[key]

    async def notify(self, _snapshot: CatalogSnapshot) -> None:
        await self._bus.publish(ToolsListChanged())
        self._forget_ended_http_sessions()
        sessions = list(self._sessions.items())
        results = await asyncio.gather(
            *(s.send_tool_list_changed() for _, s in sessions), return_exceptions=True
        )
        for (key, _), result in zip(sessions, results, strict=True):
            if isinstance(result, BaseException):
                self._sessions.pop(key, None)  # its stream is gone


def _session_key(ctx: ServerRequestContext[Any, Any]) -> str | None:
    request = ctx.request
    headers = getattr(request, "headers", None)
    if headers is None:
        return None
    session_id = headers.get("mcp-session-id")
    if session_id:
        return f"http:{session_id}"
    query = getattr(request, "query_params", {})
    sse_id = query.get("session_id") if query else None
    return f"sse:{sse_id}" if sse_id else None


def _principal(ctx: ServerRequestContext[Any, Any]) -> Principal | None:
    """The Principal the auth middleware put on the HTTP request that carried this message."""
    scope = getattr(ctx.request, "scope", None)
    return principal_of(scope) if isinstance(scope, dict) else None


def fast_methods(caller: ToolCaller, lister: ToolLister) -> FastHandler:
    """The lean route's handler: the same answers as the SDK handlers below, as plain dicts."""

    async def handle(method: str, params: dict[str, Any], principal: Principal | None) -> dict[str, Any]:
        if method == "tools/list":
            return lister.page_json(params.get("cursor"), principal)
        name = params.get("name")
        if not isinstance(name, str):
            raise ToolCallError(INVALID_PARAMS, "tools/call needs a tool 'name'")
        return await caller.call(name, params.get("arguments"), principal)

    return handle


def build_mcp_server(
    holder: CatalogHolder, caller: ToolCaller, lister: ToolLister
) -> tuple[HubServer, ListChangedNotifier]:
    bus = InMemorySubscriptionBus()
    notifier = ListChangedNotifier(bus)

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        try:
            page = lister.page(params.cursor if params else None, _principal(ctx))
        except ToolCallError as exc:
            raise MCPError(exc.code, exc.message) from exc
        return types.ListToolsResult.model_validate(page)

    def input_schema(name: str) -> dict[str, Any] | None:
        tool = holder.snapshot.get(name)
        return tool.input_schema if tool else None

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        try:
            result = await caller.call(params.name, params.arguments, _principal(ctx))
        except ToolCallError as exc:
            raise MCPError(exc.code, exc.message) from exc
        return types.CallToolResult.model_validate(result)

    server = HubServer(
        SERVER_NAME,
        version=SERVER_VERSION,
        title="mcphub",
        instructions="Tools generated from the OpenAPI specs registered with this hub.",
        # The list changes whenever the catalog does; clients should re-list on list_changed.
        cache_hints={"tools/list": CacheHint(ttl_ms=0, scope="private")},
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_subscriptions_listen=ListenHandler(bus),
    )

    async def initialized(ctx: ServerRequestContext[Any, Any], params: types.NotificationParams) -> None:
        # Every handshake-era client sends this once; its session can receive list_changed from now on.
        notifier.remember(_session_key(ctx), ctx.session)

    server.add_notification_handler("notifications/initialized", types.NotificationParams, initialized)
    holder.on_change(notifier.notify)
    return server, notifier
