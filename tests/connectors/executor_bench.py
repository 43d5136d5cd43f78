"""CPU per `OpenApiExecutor.call` against a loopback aiohttp upstream (not collected by pytest).

    .venv/bin/python -m tests.connectors.executor_bench [calls] [trials]

The upstream runs in a child process, so the CPU measured here (`time.process_time`, user +
system of this process) is the executor plus aiohttp plus the kernel's share of the socket work.
The same loop with a bare pooled aiohttp session is printed alongside as the floor.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from connectors.openapi.credentials import UpstreamCredentials
from connectors.openapi.executor import ExecutableOperation, OpenApiExecutor
from connectors.openapi.model import OperationPlan, ParamSpec, SecurityScheme
from tests.connectors.executor_support import LOOPBACK_ONLY, free_loopback_port, make_pool

PET = b'{"id":7,"name":"Rex","tag":"dog"}'


def _serve(port: int) -> None:
    async def pet(_request: web.Request) -> web.Response:
        return web.Response(body=PET, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", pet)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


async def _measure(name: str, one: Callable[[], Awaitable[None]], calls: int, trials: int) -> float:
    for _ in range(200):  # warm up: connections, caches
        await one()
    per_call = []
    for _ in range(trials):
        started = time.process_time()
        for _ in range(calls):
            await one()
        per_call.append((time.process_time() - started) / calls * 1e6)
    median = statistics.median(per_call)
    trials_text = ", ".join(f"{x:.0f}" for x in per_call)
    print(f"{name:>22}: median {median:.0f} µs CPU/call over {trials}x{calls} ({trials_text})")
    return median


async def _run(port: int, calls: int, trials: int) -> None:
    base = f"http://127.0.0.1:{port}"
    plan = OperationPlan(
        "GET",
        "/pets/{petId}",
        base,
        params=(
            ParamSpec("petId", "path", "petId", required=True),
            ParamSpec("limit", "query", "limit", style="form", explode=True),
            ParamSpec("X-Request-Id", "header", "X-Request-Id"),
        ),
        security=(("api_key",),),
    )
    schemes = {"api_key": SecurityScheme("api_key", "apiKey", location="header", param_name="X-API-Key")}
    op = ExecutableOperation(plan, base, schemes, UpstreamCredentials(api_key="k"), has_output_schema=True)
    pool = make_pool(LOOPBACK_ONLY, timeout_s=30.0)
    executor = OpenApiExecutor(pool, max_response_bytes=1 << 20)
    args = {"petId": "7", "limit": 5, "X-Request-Id": "r-1"}

    async def via_executor() -> None:
        result = await executor.call(op, args)
        assert not result["isError"], result

    async with aiohttp.ClientSession() as bare:

        async def via_bare_aiohttp() -> None:
            headers = {"X-API-Key": "k", "X-Request-Id": "r-1"}
            async with bare.get(f"{base}/pets/7?limit=5", headers=headers) as response:
                await response.read()

        try:
            await _measure("OpenApiExecutor.call", via_executor, calls, trials)
            await _measure("bare aiohttp session", via_bare_aiohttp, calls, trials)
        finally:
            await pool.aclose()


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    trials = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    port = free_loopback_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,), daemon=True)
    server.start()
    try:
        time.sleep(1.5)
        asyncio.run(_run(port, calls, trials))
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
