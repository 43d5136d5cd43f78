"""Run the real router as a Starlette app under uvicorn on a free loopback port, in a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette

from llm.config import LlmSettings
from llm.routes import LlmRouterApp, build_llm_app
from llm.usage import MemoryUsageSink, UsageRecord


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningRouter:
    app: LlmRouterApp
    sink: MemoryUsageSink
    port: int
    server: uvicorn.Server

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def records(self, timeout_s: float = 5.0, count: int = 1) -> list[UsageRecord]:
        """Usage records written so far, waiting for at least `count` (the recorder is async)."""
        deadline = time.monotonic() + timeout_s
        while len(self.sink.records) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.sink.records)


def starlette_app(router: LlmRouterApp) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await router.startup()
        try:
            yield
        finally:
            await router.aclose()

    return Starlette(routes=router.routes(), lifespan=lifespan)


@contextmanager
def serve_router(settings: dict[str, Any] | LlmSettings) -> Iterator[RunningRouter]:
    llm_settings = settings if isinstance(settings, LlmSettings) else LlmSettings.model_validate(settings)
    if isinstance(settings, dict) and "usage_flush_interval_s" not in settings:
        llm_settings.usage_flush_interval_s = 0.01
    sink = MemoryUsageSink()
    router = build_llm_app(llm_settings, sink)
    port = free_port()
    config = uvicorn.Config(
        starlette_app(router), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("router did not start")
        time.sleep(0.01)
    try:
        yield RunningRouter(router, sink, port, server)
    finally:
        server.should_exit = True
        thread.join(10)
