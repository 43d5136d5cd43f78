"""A small Starlette app with the auth layer and a toy MCP-ish endpoint, served by uvicorn on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, request_response

from catalog.db import create_engine
from catalog.migrate import migrate
from catalog.snapshot import ApiInfo, CatalogSnapshot, CatalogTool
from hub.auth.layer import AuthLayer, build_auth
from hub.auth.middleware import principal_of
from hub.auth.passwords import hash_password
from hub.auth.scopes import ScopedViews, Verdict, check_call
from hub.auth.settings import AuthSettings
from hub.auth.store import UserRecord


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tool(tenant: str, api: str, name: str, *, read_only: bool, scopes: tuple[str, ...] = ()) -> CatalogTool:
    info = ApiInfo(tenant, api, 1, api, "test", None, {})
    return CatalogTool(
        name=f"{api}_{name}",
        api=info,
        key=name,
        title=None,
        description=name,
        annotations={"readOnlyHint": True} if read_only else {},
        scopes=scopes,
        tags=(),
        deprecated=False,
        raw_input_schema='{"type":"object"}',
        raw_output_schema=None,
        raw_plan="{}",
    )


SNAPSHOT = CatalogSnapshot(
    1,
    [
        tool("default", "pets", "list", read_only=True),
        tool("default", "pets", "create", read_only=False),
        tool("default", "billing", "charge", read_only=False, scopes=("billing:charge",)),
        tool("acme", "secret", "list", read_only=True),
    ],
    [],
)


def mcp_endpoint(views: ScopedViews) -> Any:
    """A stand-in for the hub's /mcp: JSON-RPC tools/list and tools/call over the scoped view."""

    async def endpoint(request: Request) -> Response:
        principal = principal_of(request.scope)
        assert principal is not None
        message = await request.json()
        if message["method"] == "tools/list":
            view = views.view(SNAPSHOT, principal)
            result: dict[str, Any] = {"tools": [{"name": t.name} for t in view.tools]}
        else:
            name = message["params"]["name"]
            if check_call(principal, SNAPSHOT.get(name)) is not Verdict.ALLOWED:
                error = {"code": -32602, "message": f"Unknown tool: {name}"}
                return JSONResponse({"jsonrpc": "2.0", "id": message["id"], "error": error})
            seen = request.headers.get("authorization")
            result = {"content": [{"type": "text", "text": f"called {name}; authorization={seen}"}]}
        return JSONResponse({"jsonrpc": "2.0", "id": message["id"], "result": result})

    return endpoint


@dataclass
class RunningAuth:
    base_url: str
    layer: AuthLayer

    @property
    def mcp_url(self) -> str:
        return self.base_url + "/mcp"


async def add_user(layer: AuthLayer, name: str, password: str, tenant: str = "default") -> None:
    # Cheap scrypt cost for tests; verification reads the cost from the hash.
    await layer.store.add_user(UserRecord(name, tenant, hash_password(password, n=2**14), False))


@contextlib.asynccontextmanager
async def serve_auth(
    tmp: Path, settings: AuthSettings | None = None, **build: Any
) -> AsyncIterator[RunningAuth]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url = f"sqlite+aiosqlite:///{tmp / 'catalog.db'}"
    await migrate(url)
    engine = create_engine(url)
    settings = settings or AuthSettings(default_scopes=["pets:read"])
    layer = build_auth(settings, tmp, engine, public_url=base, **build)
    views = ScopedViews()
    mcp = layer.guard(request_response(mcp_endpoint(views)), SNAPSHOT.get)
    app = Starlette(
        routes=[*layer.routes(), Route("/mcp", mcp, methods=["POST"])], middleware=layer.middleware()
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    await layer.startup()
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
        await asyncio.sleep(0.01)
    try:
        yield RunningAuth(base, layer)
    finally:
        server.should_exit = True
        await task
        await layer.aclose()
        await engine.dispose()


async def login(http: httpx2.AsyncClient, authorization_url: str, user: str, password: str) -> str:
    """Drive the login + consent page like a browser would; returns the redirect Location."""
    page = await http.get(authorization_url)
    assert page.status_code == 200, page.text
    request_token = re.search(r'name="request" value="([^"]+)"', page.text)
    assert request_token is not None
    form = {"request": request_token.group(1), "username": user, "password": password, "action": "approve"}
    answer = await http.post(authorization_url.split("?")[0], data=form)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]
