"""Benchmark: direct vs mcphub's LLM router vs the LiteLLM proxy, against one mock upstream.

    .venv/bin/python benchmarks/llm_router.py [--requests 2000] [--concurrency 16] [--no-proxy]

Everything runs on 127.0.0.1: a mock OpenAI-compatible upstream (aiohttp, its own process), the
router (uvicorn, one process) and the LiteLLM proxy (`litellm[proxy]==1.108.7`, installed by this
script into its own venv under /tmp, started with its network fetches off). The load generator
is this process. Reported per target: added p50/p99 latency at c=1 over direct, throughput at
--concurrency, server CPU per request (from /proc), streaming time to first byte, and RSS growth.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]
PROXY_VENV = Path(os.environ.get("LITELLM_PROXY_VENV", "/tmp/litellm-proxy-venv"))
PROXY_SPEC = "litellm[proxy]==1.108.7"
MASTER_KEY = "sk-bench-" + os.urandom(16).hex()  # the proxy refuses to start without one
AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}
OFFLINE_ENV = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_OFFLINE_MODE": "true", "HF_HUB_OFFLINE": "1"}
BODY = {"model": "bench", "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 16}
REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hello there!"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- the processes under test -------------------------------------------------------------------


def run_mock(port: int) -> None:
    from aiohttp import web

    reply = json.dumps(REPLY).encode()
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
    events = [
        {**chunk, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
        for w in ("Hello", " there", "!")
    ]
    events.append({**chunk, "choices": [], "usage": REPLY["usage"]})
    stream = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"

    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if not body.get("stream"):
            return web.Response(body=reply, content_type="application/json")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(stream)
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def run_router(port: int, upstream_port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette

    from llm.config import LlmSettings
    from llm.routes import build_llm_app
    from llm.usage import MemoryUsageSink

    settings = LlmSettings.model_validate(
        {
            "model_list": [
                {
                    "model_name": "bench",
                    "litellm_params": {
                        "model": "openai/gpt-4o-mini",
                        "api_base": f"http://127.0.0.1:{upstream_port}/v1",
                        "api_key": "sk-bench",
                    },
                }
            ]
        }
    )
    router = build_llm_app(settings, MemoryUsageSink(max_records=1000))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await router.startup()
        yield
        await router.aclose()

    app = Starlette(routes=router.routes(), lifespan=lifespan)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def ensure_proxy_venv() -> Path:
    binary = PROXY_VENV / "bin" / "litellm"
    if not binary.exists():
        print(f"installing {PROXY_SPEC} into {PROXY_VENV} (once)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PROXY_VENV)], check=True)
        subprocess.run([str(PROXY_VENV / "bin" / "pip"), "install", "-q", PROXY_SPEC], check=True)
    return binary


def start_proxy(port: int, upstream_port: int, workdir: Path) -> subprocess.Popen[bytes]:
    config = workdir / "litellm.yaml"
    config.write_text(
        json.dumps(
            {
                "model_list": [
                    {
                        "model_name": "bench",
                        "litellm_params": {
                            "model": "openai/gpt-4o-mini",
                            "api_base": f"http://127.0.0.1:{upstream_port}/v1",
                            "api_key": "sk-bench",
                        },
                    }
                ],
                "litellm_settings": {"telemetry": False},
            }
        )
    )
    env = {**os.environ, **OFFLINE_ENV, "LITELLM_TELEMETRY": "False", "LITELLM_MASTER_KEY": MASTER_KEY}
    command = [
        str(ensure_proxy_venv()),
        "--config",
        str(config),
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--num_workers",
        "1",
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_self(role: str, *ports: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, __file__, f"--{role}", *map(str, ports)], env=env)


# --- measurement --------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    url: str
    proc: subprocess.Popen[bytes]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def wait_ready(session: aiohttp.ClientSession, target: Target, timeout_s: float = 180) -> None:
    url = target.url
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and target.proc.poll() is None:
        try:
            async with session.post(url, json=BODY) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


async def one(session: aiohttp.ClientSession, url: str) -> float:
    start = time.perf_counter()
    async with session.post(url, json=BODY) as response:
        await response.read()
        assert response.status == 200, response.status
    return time.perf_counter() - start


async def first_byte(session: aiohttp.ClientSession, url: str) -> float:
    start = time.perf_counter()
    async with session.post(url, json={**BODY, "stream": True}) as response:
        await response.content.readany()
        elapsed = time.perf_counter() - start
        await response.read()
    return elapsed


async def sequential(session: aiohttp.ClientSession, target: Target, n: int) -> tuple[list[float], float]:
    cpu = cpu_seconds(target.proc.pid)
    latencies = [await one(session, target.url) for _ in range(n)]
    return latencies, (cpu_seconds(target.proc.pid) - cpu) / n


async def throughput(session: aiohttp.ClientSession, url: str, concurrency: int, seconds: float) -> float:
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await one(session, url)
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - start)


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


async def measure(targets: list[Target], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers=AUTH) as session:
        for target in targets:
            await wait_ready(session, target)
            await sequential(session, target, 200)  # warm-up
            rss_before = rss_mb(target.proc.pid)
            latencies, cpu = await sequential(session, target, args.requests)
            ttfb = [await first_byte(session, target.url) for _ in range(args.requests // 4)]
            rps = await throughput(session, target.url, args.concurrency, args.seconds)
            await sequential(session, target, args.requests)
            results[target.name] = {
                "p50_ms": pct(latencies, 0.5),
                "p99_ms": pct(latencies, 0.99),
                "cpu_ms": cpu * 1000,
                "ttfb_p50_ms": pct(ttfb, 0.5),
                "rps": rps,
                "rss_growth_mb": rss_mb(target.proc.pid) - rss_before,
            }
            print(
                f"{target.name:8s} {json.dumps({k: round(v, 3) for k, v in results[target.name].items()})}",
                flush=True,
            )
    return results


def report(results: dict[str, dict[str, float]]) -> None:
    direct, router = results["direct"], results["router"]
    print("\nrouter vs direct:")
    print(f"  added p50 latency at c=1: {router['p50_ms'] - direct['p50_ms']:.3f} ms")
    print(f"  added streaming TTFB p50: {router['ttfb_p50_ms'] - direct['ttfb_p50_ms']:.3f} ms")
    print(f"  router CPU per request:   {router['cpu_ms']:.3f} ms")
    if "proxy" in results:
        proxy = results["proxy"]
        print("LiteLLM proxy vs direct:")
        print(f"  added p50 latency at c=1: {proxy['p50_ms'] - direct['p50_ms']:.3f} ms")
        print(f"  proxy CPU per request:    {proxy['cpu_ms']:.3f} ms")
        print(f"throughput router / proxy:  {router['rps'] / proxy['rps']:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--no-proxy", action="store_true")
    parser.add_argument("--mock", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--router", type=int, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mock:
        return run_mock(args.mock)
    if args.router:
        return run_router(*args.router)
    mock_port, router_port, proxy_port = free_port(), free_port(), free_port()
    procs = [start_self("mock", mock_port), start_self("router", router_port, mock_port)]
    targets = [
        Target("direct", f"http://127.0.0.1:{mock_port}/v1/chat/completions", procs[0]),
        Target("router", f"http://127.0.0.1:{router_port}/v1/chat/completions", procs[1]),
    ]
    with tempfile.TemporaryDirectory() as workdir:
        if not args.no_proxy:
            procs.append(start_proxy(proxy_port, mock_port, Path(workdir)))
            targets.append(Target("proxy", f"http://127.0.0.1:{proxy_port}/v1/chat/completions", procs[-1]))
        try:
            report(asyncio.run(measure(targets, args)))
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)


if __name__ == "__main__":
    main()
