"""A local REST API implementing the petstore spec, run in its own thread; it records what arrives."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict


@dataclass
class Recorded:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: CIMultiDict[str]  # header names are case-insensitive on the wire
    body: bytes


@dataclass
class PetstoreUpstream:
    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    pets: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def last(self) -> Recorded:
        return self.requests[-1]

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/pets", self._list)
        app.router.add_post("/pets", self._create)
        app.router.add_get("/pets/{petId}", self._show)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            Recorded(
                request.method, request.path, list(request.query.items()), CIMultiDict(request.headers), body
            )
        )
        response: web.StreamResponse = await handler(request)
        return response

    async def _list(self, request: web.Request) -> web.Response:
        limit = int(request.query.get("limit", "100"))
        return web.json_response(list(self.pets.values())[:limit])

    async def _create(self, request: web.Request) -> web.Response:
        pet = await request.json()
        self.pets[int(pet["id"])] = pet
        return web.Response(status=201)

    async def _show(self, request: web.Request) -> web.Response:
        pet = self.pets.get(int(request.match_info["petId"]))
        if pet is None:
            return web.json_response({"code": 404, "message": "pet not found"}, status=404)
        return web.json_response(pet)


@contextmanager
def serve_in_thread(app: web.Application) -> Iterator[int]:
    """Serve an aiohttp app on 127.0.0.1 in a background thread; yields the port."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    ready = threading.Event()
    port_box: list[int] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_box.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        ready.set()

    thread = threading.Thread(
        target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True
    )
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("upstream did not start")
    try:
        yield port_box[0]
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@contextmanager
def petstore_upstream() -> Iterator[PetstoreUpstream]:
    upstream = PetstoreUpstream()
    with serve_in_thread(upstream.app()) as port:
        upstream.port = port
        yield upstream
