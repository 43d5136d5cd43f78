"""The Starlette application: wires catalog, connectors and MCP serving together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from mcp.server.sse import SseServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from catalog.crypto import load_or_create_key
from catalog.db import create_engine
from catalog.migrate import migrate
from catalog.store import CatalogStore
from connectors.http import UpstreamPool
from connectors.openapi.executor import OpenApiExecutor
from connectors.ssrf import AddressPolicy
from hub.admin import AdminApi, error_response
from hub.auth.cli import public_url
from hub.auth.layer import AuthLayer, build_auth
from hub.catalog_sync import CatalogHolder
from hub.config import HubSettings
from hub.fastpath import FastPath
from hub.fastpath import Handler as FastHandler
from hub.http_guards import BodySizeLimit, BodyTooLarge, HostOriginGuard, TrimHeaderValues
from hub.importer import Importer
from hub.mcp_server import HubServer, build_mcp_server, fast_methods
from hub.tool_calls import ToolCaller
from hub.tool_lists import ToolLister
from llm.routes import LlmRouterApp, build_llm_app
from llm.usage import MemoryUsageSink

logger = logging.getLogger(__name__)


class ConfigError(Exception):
    """The configuration cannot be served safely."""


@dataclass(slots=True)
class Hub:
    """Everything one running hub process holds, created once and passed explicitly."""

    settings: HubSettings
    store: CatalogStore
    holder: CatalogHolder
    pool: UpstreamPool
    importer: Importer
    server: HubServer
    session_manager: StreamableHTTPSessionManager
    fast_handler: FastHandler
    llm: LlmRouterApp | None
    auth: AuthLayer | None


def build_hub(settings: HubSettings) -> Hub:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    box = load_or_create_key(settings.data_dir, _secret(settings))
    store = CatalogStore(create_engine(settings.resolved_database_url), box)
    policy = AddressPolicy(settings.network.allow_private)
    pool = UpstreamPool(
        policy,
        connect_timeout_s=settings.upstream.connect_timeout_s,
        timeout_s=settings.upstream.timeout_s,
        max_connections_per_upstream=settings.upstream.max_connections_per_upstream,
    )
    holder = CatalogHolder(store, settings.catalog_poll_interval_s)
    executor = OpenApiExecutor(pool, max_response_bytes=settings.upstream.max_response_bytes)
    caller = ToolCaller(holder, executor)
    lister = ToolLister(holder, settings.server.tools_page_size)
    server, notifier = build_mcp_server(holder, caller, lister)
    session_manager = StreamableHTTPSessionManager(
        app=server,
        json_response=True,
        security_settings=transport_security(settings),
        max_request_body_size=settings.server.max_body_bytes,
    )
    # The SDK keeps live handshake-era sessions in this dict; it has no public accessor.
    notifier.track_http_sessions(session_manager._server_instances)
    importer = Importer(store, pool, policy, settings.network.spec_fetch_max_bytes)
    llm = build_llm_app(settings.llm, MemoryUsageSink()) if settings.llm.model_list else None
    auth = None if settings.insecure_no_auth else _build_auth(settings, store)
    fast = fast_methods(caller, lister)
    return Hub(settings, store, holder, pool, importer, server, session_manager, fast, llm, auth)


def _build_auth(settings: HubSettings, store: CatalogStore) -> AuthLayer:
    try:
        return build_auth(settings.auth, settings.data_dir, store.engine, public_url=public_url(settings))
    except ValueError as exc:
        raise ConfigError(f"auth configuration: {exc}") from exc


def _secret(settings: HubSettings) -> str | None:
    return settings.secret_key.get_secret_value() if settings.secret_key else None


def transport_security(settings: HubSettings) -> TransportSecuritySettings:
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=settings.server.allowed_hosts,
        allowed_origins=settings.server.allowed_origins,
    )


def create_app(settings: HubSettings) -> Starlette:
    hub = build_hub(settings)
    return Starlette(
        routes=_routes(hub),
        # Host/Origin and body limits first, then auth (it reads no body; the guard does, limited).
        middleware=[*_middleware(settings), *(hub.auth.middleware() if hub.auth else [])],
        lifespan=lambda app: _lifespan(hub),
        exception_handlers={BodyTooLarge: _body_too_large},
    )


def _middleware(settings: HubSettings) -> list[Middleware]:
    return [
        Middleware(TrimHeaderValues),
        Middleware(
            HostOriginGuard,
            allowed_hosts=settings.server.allowed_hosts,
            allowed_origins=settings.server.allowed_origins,
        ),
        Middleware(
            BodySizeLimit,
            default_limit=settings.server.max_body_bytes,
            prefix_limits={
                "/admin/": settings.server.admin_max_body_bytes,
                "/v1/": settings.llm.max_body_bytes,
            },
        ),
    ]


def _routes(hub: Hub) -> list[BaseRoute]:
    sse = SseServerTransport(
        "/messages/",
        security_settings=transport_security(hub.settings),
        max_request_body_size=hub.settings.server.max_body_bytes,
    )

    async def handle_sse(scope: Scope, receive: Receive, send: Send) -> None:
        async with sse.connect_sse(scope, receive, send) as (read, write):
            await hub.server.run(read, write, hub.server.create_initialization_options())

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            revision = await hub.store.revision()
        except Exception:
            logger.warning("readiness check: database unreachable", exc_info=True)
            return JSONResponse({"status": "unavailable", "reason": "database unreachable"}, status_code=503)
        return JSONResponse(
            {"status": "ready", "revision": revision, "tools": len(hub.holder.snapshot.tools)}
        )

    sdk_app = StreamableHTTPASGIApp(hub.session_manager)
    mcp_app: ASGIApp = (
        sdk_app
        if not hub.settings.server.fast_path
        else FastPath(sdk_app, hub.session_manager, hub.fast_handler, hub.server.server_info_stamp)
    )
    messages_app: ASGIApp = sse.handle_post_message
    if hub.auth is not None:
        # tools/call without the tool's scopes: HTTP 403 insufficient_scope, on both transports.
        mcp_app = hub.auth.guard(mcp_app, lambda name: hub.holder.snapshot.get(name))
        messages_app = hub.auth.guard(messages_app, lambda name: hub.holder.snapshot.get(name))
    return [
        *(hub.auth.routes() if hub.auth else []),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/mcp", mcp_app, methods=["GET", "POST", "DELETE"]),
        Route("/sse", _AsgiEndpoint(handle_sse), methods=["GET"]),
        Mount("/messages/", app=messages_app),
        *AdminApi(hub.store, hub.importer, hub.holder).routes(),
        *(hub.llm.routes() if hub.llm else []),
    ]


class _AsgiEndpoint:
    """Lets a plain ASGI callable sit in a Route (Starlette treats non-functions as ASGI apps)."""

    def __init__(self, app: Any) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


async def _body_too_large(request: Request, exc: Exception) -> Response:
    return error_response(413, "rejected", str(exc))


@contextlib.asynccontextmanager
async def _lifespan(hub: Hub) -> AsyncIterator[None]:
    await migrate(hub.settings.resolved_database_url)
    await hub.holder.reload()
    poller = asyncio.create_task(hub.holder.run(), name="catalog-poller")
    if hub.llm:
        await hub.llm.startup()
    if hub.auth:
        await hub.auth.startup()  # after migrate(): it reads the c0002 auth tables
    try:
        async with hub.session_manager.run():
            yield
    finally:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
        if hub.llm:
            await hub.llm.aclose()
        if hub.auth:
            await hub.auth.aclose()
        await hub.pool.aclose()
        await hub.store.aclose()
