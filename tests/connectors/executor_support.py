"""A recording upstream on 127.0.0.1 and helpers for the executor tests (loopback traffic only)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict

from connectors.http import UpstreamPool
from connectors.openapi.credentials import UpstreamCredentials
from connectors.openapi.executor import ExecutableOperation
from connectors.openapi.model import BodySpec, OperationPlan, ParamSpec, SecurityScheme
from connectors.ssrf import AddressPolicy

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LOOPBACK_ONLY = AddressPolicy(["127.0.0.1"])


@dataclass
class Seen:
    """One request exactly as it arrived."""

    method: str
    raw_path: str  # path and query, undecoded
    headers: CIMultiDict[str]
    body: bytes

    @property
    def path(self) -> str:
        return self.raw_path.partition("?")[0]

    @property
    def query(self) -> str:
        return self.raw_path.partition("?")[2]


@dataclass
class RecordingUpstream:
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    routes: dict[str, Handler] = field(default_factory=dict)  # exact path → handler

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def last(self) -> Seen:
        return self.seen[-1]

    def route(self, path: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes[path] = handler
            return handler

        return register

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(Seen(request.method, request.raw_path, CIMultiDict(request.headers), body))
        handler = self.routes.get(request.path)
        if handler is not None:
            return await handler(request)
        return web.json_response({"ok": True, "path": request.path})


@asynccontextmanager
async def running_upstream() -> AsyncIterator[RecordingUpstream]:
    upstream = RecordingUpstream()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", upstream.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    upstream.port = runner.addresses[0][1]
    try:
        yield upstream
    finally:
        await runner.cleanup()


def make_pool(
    policy: AddressPolicy = LOOPBACK_ONLY,
    *,
    timeout_s: float = 5.0,
    connect_timeout_s: float = 2.0,
    **kw: Any,
) -> UpstreamPool:
    return UpstreamPool(
        policy, connect_timeout_s=connect_timeout_s, timeout_s=timeout_s, max_connections_per_upstream=8, **kw
    )


def make_op(
    base_url: str,
    method: str = "GET",
    path: str = "/echo",
    *,
    params: tuple[ParamSpec, ...] = (),
    body: BodySpec | None = None,
    security: tuple[tuple[str, ...], ...] = (),
    schemes: Mapping[str, SecurityScheme] | None = None,
    credentials: UpstreamCredentials | None = None,
    has_output_schema: bool = False,
) -> ExecutableOperation:
    plan = OperationPlan(method, path, "", params=params, body=body, security=security)
    return ExecutableOperation(
        plan=plan,
        base_url=base_url,
        security_schemes=schemes or {},
        credentials=credentials or UpstreamCredentials(),
        has_output_schema=has_output_schema,
    )


def text_of(result: dict[str, Any]) -> str:
    content = result["content"]
    assert len(content) == 1 and content[0]["type"] == "text", result
    text: str = content[0]["text"]
    return text


def free_loopback_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def hang(_request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(30)
    return web.Response()


class FakeResolver(AbstractResolver):
    """Answers from a fixed table, so tests can point made-up names at chosen addresses."""

    def __init__(self, table: Mapping[str, list[str]]) -> None:
        self.table = dict(table)
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.table:
            raise OSError(f"unknown host {host}")
        return [
            ResolveResult(
                hostname=host,
                host=ip,
                port=port,
                family=socket.AF_INET6 if ":" in ip else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for ip in self.table[host]
        ]

    async def close(self) -> None:
        return None
