"""Benchmark: the hub's MCP gateway vs a direct HTTP call vs FastMCP `from_openapi`, in one run.

    .venv/bin/python -m benchmarks.gateway [--rounds 3] [--out FILE] [--no-fastmcp] [--no-github]

Everything runs on 127.0.0.1, each server in its own process:
  * a petstore-like REST upstream (aiohttp): GET /pets/{petId} returns a small JSON object;
  * the hub, `mcphub serve --insecure-no-auth` (log level WARNING), with the shared petstore spec
    registered against that upstream; once with the lean route (default) and once with
    MCPHUB_SERVER__FAST_PATH=false (the SDK path);
  * FastMCP (`fastmcp==4.2.3`, installed by this script into its own venv under /tmp, never into
    .venv) serving `FastMCP.from_openapi` on the same spec against the same upstream over
    streamable HTTP, with FastMCP's defaults (`benchmarks/gateway_fastmcp.py`).
This process is the load generator (its CPU is not the servers'): one lean raw JSON-RPC client
(asyncio + httptools, keep-alive HTTP/1.1, one connection per worker) for every MCP target (legacy
era: initialize + notifications/initialized, then tools/call in that session; 2026-07-28 era:
stateless requests carrying the envelope), and plain GETs to the upstream as the baseline.
Targets are measured in interleaved rounds so background noise hits all of them alike: at
concurrency 1 (latency percentiles, server CPU per call from /proc/<pid>/stat) and at
concurrency 32 (throughput, one connection and MCP session per worker).

Then GitHub's spec (1,223 operations): `mcphub api add` wall time, an in-process breakdown (load,
convert, DB write), FastMCP's `from_openapi` time on it, the hub's first tools/list page with that
catalog (time to the full response body, no JSON parsing) and its idle RSS after walking all pages.

Prints a table and the targets of the hub-core issue; writes all numbers as JSON (default
/tmp/mcphub-bench/gateway-<time>.json). Bounded (about 3-4 minutes) and stops every process it
started, on errors too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import httptools

REPO = Path(__file__).resolve().parents[1]
HUB_SRC = REPO  # the checkout whose hub is measured (--hub-src); processes get it as PYTHONPATH and cwd
SPECS = Path(os.environ.get("MCPHUB_BENCH_SPECS", REPO.parent / "shared" / "specs"))
PETSTORE_SPEC = SPECS / "petstore-3.0.yaml"
GITHUB_SPEC = SPECS / "github-rest-3.0.json"
FASTMCP_REQUIREMENT = "fastmcp==4.2.3"
FASTMCP_VENV = Path(os.environ.get("MCPHUB_BENCH_FASTMCP_VENV", "/tmp/mcphub-bench-fastmcp"))
FASTMCP_SCRIPT = Path(__file__).resolve().with_name("gateway_fastmcp.py")
LEGACY_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"
PET = {"id": 1, "name": "doggie", "tag": "dog"}
MARK = b"doggie"  # every successful answer, direct or through a gateway, carries the pet
CONCURRENCY = 32
MCP_ACCEPT = "application/json, text/event-stream"

# The hub-core issue's targets (2 cores, local REST upstream).
TARGET_ADDED_P50_MS = 1.0
TARGET_THROUGHPUT_X = 5.0
TARGET_CPU_MS = 0.8
TARGET_GH_IMPORT_S = 3.0
TARGET_GH_FIRST_PAGE_MS = 50.0
TARGET_GH_IDLE_RSS_MB = 200.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- the upstream (runs as `gateway.py --upstream PORT`) ----------------------------------------


def run_upstream(port: int) -> None:
    from aiohttp import web

    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    body = json.dumps(PET).encode()

    async def show(request: web.Request) -> web.Response:
        pet_id = request.match_info["petId"]
        if pet_id != "1":
            return web.json_response({"code": 404, "message": "pet not found"}, status=404)
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/pets/{petId}", show)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# --- processes ----------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Child processes get SIGTERM if this process dies without cleaning up (Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Processes:
    """Every process this run starts; `stop_all` ends them (terminate, then kill)."""

    logdir: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = (self.logdir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=HUB_SRC, preexec_fn=_die_with_parent
        )
        log.close()
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.logdir / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)


def hub_command() -> list[str]:
    script = Path(sys.executable).with_name("mcphub")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hub"]


def hub_env(fast_path: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPHUB_")}
    env.update(
        {
            "MCPHUB_LOG_LEVEL": "WARNING",
            "MCPHUB_NETWORK__ALLOW_PRIVATE": '["127.0.0.1"]',
            "MCPHUB_SERVER__FAST_PATH": "true" if fast_path else "false",
            "PYTHONPATH": str(HUB_SRC),
        }
    )
    return env


def mcphub_cli(*args: str, data_dir: Path) -> float:
    """Run `mcphub ARGS --data-dir D`; returns its wall time in seconds."""
    started = time.perf_counter()
    result = subprocess.run(
        [*hub_command(), *args, "--data-dir", str(data_dir)],
        env=hub_env(),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HUB_SRC,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"mcphub {' '.join(args)} failed:\n{result.stderr}")
    return elapsed


def start_hub(procs: Processes, name: str, data_dir: Path, fast_path: bool = True) -> tuple[int, float]:
    """Start `mcphub serve`; returns (port, seconds until /readyz answered)."""
    port = free_port()
    cmd = [*hub_command(), "serve", "--insecure-no-auth", "--port", str(port), "--data-dir", str(data_dir)]
    started = time.perf_counter()
    proc = procs.start(name, cmd, hub_env(fast_path))
    wait_http(procs, name, proc, f"http://127.0.0.1:{port}/readyz")
    return port, time.perf_counter() - started


def wait_http(
    procs: Processes, name: str, proc: subprocess.Popen[bytes], url: str, timeout_s: float = 60
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{procs.log(name)}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:  # up (FastMCP answers a bare GET /mcp with 4xx)
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} not ready after {timeout_s}s:\n{procs.log(name)}")


def ensure_fastmcp_venv() -> Path:
    python = FASTMCP_VENV / "bin" / "python"
    marker = FASTMCP_VENV / ".bench-installed"
    if not marker.exists() or marker.read_text().strip() != FASTMCP_REQUIREMENT:
        print(f"installing {FASTMCP_REQUIREMENT} into {FASTMCP_VENV} (once)...", flush=True)
        shutil.rmtree(FASTMCP_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(FASTMCP_VENV)], check=True, timeout=120)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", FASTMCP_REQUIREMENT],
            check=True,
            timeout=600,
        )
        marker.write_text(FASTMCP_REQUIREMENT)
    return python


def fastmcp_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MCPHUB_", "FASTMCP_", "PYTHON"))}
    env.update({"FASTMCP_CHECK_FOR_UPDATES": "off", "FASTMCP_SHOW_SERVER_BANNER": "false"})
    return env


def start_fastmcp(procs: Processes, name: str, spec: Path, upstream_url: str) -> tuple[int, float]:
    port = free_port()
    cmd = [str(ensure_fastmcp_venv()), str(FASTMCP_SCRIPT), "serve", str(spec), str(port), upstream_url]
    started = time.perf_counter()
    proc = procs.start(name, cmd, fastmcp_env())
    wait_http(procs, name, proc, f"http://127.0.0.1:{port}/mcp", timeout_s=120)
    return port, time.perf_counter() - started


# --- /proc --------------------------------------------------------------------------------------


def cpu_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, all threads, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- the client ---------------------------------------------------------------------------------


class CallFailed(Exception):
    pass


class HttpConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time, responses parsed by httptools (C).

    Far cheaper per request than a general client: on 2 cores the load generator's CPU is taken
    from the servers under test, so it must stay small.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._body: list[bytes] = []
        self.headers: dict[bytes, bytes] = {}
        self._keep_alive = True

    async def connect(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        await asyncio.get_running_loop().create_connection(lambda: self, self.host, self.port)

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(CallFailed(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_exception(CallFailed(f"bad HTTP response: {exc}"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._keep_alive = self._parser.should_keep_alive()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result((self._parser.get_status_code(), b"".join(self._body)))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        """Send one complete request; (status, body) once the whole response has arrived."""
        if self.transport is None or not self._keep_alive:
            if self.transport is not None:
                self.transport.close()
            self._keep_alive = True
            await self.connect()
        assert self.transport is not None
        self._body = []
        self.headers = {}
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self._waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def decode_message(body: bytes, content_type: bytes) -> dict[str, Any]:
    """A JSON-RPC message from a JSON body or an SSE stream (the last `data:` event)."""
    if content_type.startswith(b"text/event-stream"):
        data = [line[5:].strip() for line in body.decode().splitlines() if line.startswith("data:")]
        data = [d for d in data if d]
        if not data:
            raise CallFailed(f"empty SSE answer: {body[:200]!r}")
        message: dict[str, Any] = json.loads(data[-1])
        return message
    decoded: dict[str, Any] = json.loads(body)
    return decoded


Call = Callable[[], Awaitable[bool]]


def split_url(url: str) -> tuple[str, int, str]:
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port, parts.path or "/"


class McpClient:
    """A lean MCP client over raw HTTP: one session (legacy era) or none (2026-07-28), one connection."""

    def __init__(self, url: str, era: str, tool: str = "", args: dict[str, Any] | None = None) -> None:
        host, port, self.path = split_url(url)
        self.conn = HttpConnection(host, port)
        self.host = f"{host}:{port}"
        self.era, self.tool, self.args = era, tool, args or {}
        self.headers: dict[str, str] = {"Content-Type": "application/json", "Accept": MCP_ACCEPT}
        self._next_id = 0

    def _http(self, body: bytes, headers: dict[str, str]) -> bytes:
        lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head = f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\n{lines}Content-Length: {len(body)}\r\n\r\n"
        return head.encode() + body

    async def open(self) -> None:
        await self.conn.connect()
        if self.era == "modern":
            self.headers["mcp-protocol-version"] = MODERN_VERSION
            return
        params = {
            "protocolVersion": LEGACY_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "mcphub-bench", "version": "0"},
        }
        _, body = await self.post("initialize", params)
        session_id = self.conn.headers.get(b"mcp-session-id")
        message = decode_message(body, self.conn.headers.get(b"content-type", b""))
        if session_id:
            self.headers["mcp-session-id"] = session_id.decode()
        self.headers["mcp-protocol-version"] = message["result"]["protocolVersion"]
        note = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode()
        status, _ = await self.conn.request(self._http(note, self.headers))
        if status not in (200, 202):
            raise CallFailed(f"notifications/initialized: HTTP {status}")

    def _message(self, method: str, params: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        headers = self.headers
        if self.era == "modern":
            envelope = {
                "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "mcphub-bench", "version": "0"},
            }
            params = {**params, "_meta": envelope}
            headers = {**headers, "mcp-method": method}
            if method == "tools/call":
                headers["mcp-name"] = params["name"]
        self._next_id += 1
        message = {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}
        return json.dumps(message).encode(), headers

    async def post(self, method: str, params: dict[str, Any]) -> tuple[float, bytes]:
        """One request; (seconds to the full response body, body). The body is not parsed."""
        body, headers = self._message(method, params)
        data = self._http(body, headers)
        started = time.perf_counter()
        status, answer = await self.conn.request(data)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise CallFailed(f"{method}: HTTP {status}: {answer[:300]!r}")
        return elapsed, answer

    def call_tool(self) -> Call:
        """A cheap per-call closure: the request is pre-encoded around a changing JSON-RPC id."""
        body, headers = self._message("tools/call", {"name": self.tool, "arguments": self.args})
        marker = f'"id": {self._next_id},'.encode()
        body_head, body_tail = body.split(marker)
        lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        http_head = f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\n{lines}".encode()
        conn = self.conn

        async def call() -> bool:
            self._next_id += 1
            payload = b'%s"id": %d,%s' % (body_head, self._next_id, body_tail)
            data = b"%sContent-Length: %d\r\n\r\n%s" % (http_head, len(payload), payload)
            try:
                status, answer = await conn.request(data)
            except CallFailed:
                return False
            return status == 200 and MARK in answer

        return call

    async def check(self) -> None:
        """One tools/call with the answer fully checked (the timed loop only looks for the pet)."""
        _, answer = await self.post("tools/call", {"name": self.tool, "arguments": self.args})
        message = decode_message(answer, self.conn.headers.get(b"content-type", b""))
        result = message.get("result")
        if not isinstance(result, dict) or result.get("isError") or MARK.decode() not in json.dumps(result):
            raise CallFailed(f"unexpected tools/call answer: {answer[:400]!r}")


async def direct_call(url: str) -> tuple[Call, HttpConnection]:
    host, port, path = split_url(url)
    conn = HttpConnection(host, port)
    await conn.connect()
    data = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()

    async def call() -> bool:
        try:
            status, answer = await conn.request(data)
        except CallFailed:
            return False
        return status == 200 and MARK in answer

    return call, conn


# --- measurement --------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    kind: str  # direct | hub | hub-sdk | fastmcp
    pid: int
    url: str
    era: str | None = None  # legacy | modern (MCP targets)
    tool: str = ""
    workers: list[Call] = field(default_factory=list)
    connections: list[HttpConnection] = field(default_factory=list)
    # raw samples, pooled over rounds
    latencies: list[float] = field(default_factory=list)
    c1_cpu: float = 0.0
    c1_sys_cpu: float = 0.0
    c1_client_cpu: float = 0.0
    c1_errors: int = 0
    c32_calls: int = 0
    c32_seconds: float = 0.0
    c32_cpu: float = 0.0
    c32_client_cpu: float = 0.0
    c32_errors: int = 0
    rounds: list[dict[str, float]] = field(default_factory=list)
    skipped: str | None = None


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


@dataclass
class Sample:
    calls: int
    errors: int
    seconds: float
    server_cpu: float
    server_sys_cpu: float
    client_cpu: float
    latencies: list[float]


async def concurrency_one(target: Target, calls: int, seconds: float) -> Sample:
    """Sequential calls on one connection until `calls` or `seconds`."""
    call = target.workers[0]
    clock = time.perf_counter
    latencies: list[float] = []
    errors = 0
    user, system = cpu_times(target.pid)
    client_cpu = time.process_time()
    started = clock()
    deadline = started + seconds
    while len(latencies) < calls and clock() < deadline:
        begun = clock()
        ok = await call()
        latencies.append(clock() - begun)
        errors += not ok
    elapsed = clock() - started
    user_after, system_after = cpu_times(target.pid)
    return Sample(
        calls=len(latencies),
        errors=errors,
        seconds=elapsed,
        server_cpu=user_after + system_after - user - system,
        server_sys_cpu=system_after - system,
        client_cpu=time.process_time() - client_cpu,
        latencies=latencies,
    )


async def concurrency_n(target: Target, seconds: float, max_calls: int) -> Sample:
    """Every worker (one connection/session each) at once for `seconds`, at most `max_calls`."""
    done = errors = 0
    clock = time.perf_counter
    stop = clock() + seconds

    async def worker(call: Call) -> None:
        nonlocal done, errors
        while clock() < stop and done < max_calls:
            ok = await call()
            done += 1
            errors += not ok

    user, system = cpu_times(target.pid)
    client_cpu = time.process_time()
    started = clock()
    await asyncio.gather(*(worker(call) for call in target.workers))
    elapsed = clock() - started
    user_after, system_after = cpu_times(target.pid)
    return Sample(
        calls=done,
        errors=errors,
        seconds=elapsed,
        server_cpu=user_after + system_after - user - system,
        server_sys_cpu=system_after - system,
        client_cpu=time.process_time() - client_cpu,
        latencies=[],
    )


async def prepare(target: Target, warmup: int) -> None:
    if target.kind == "direct":
        for _ in range(CONCURRENCY):
            call, conn = await direct_call(target.url)
            target.workers.append(call)
            target.connections.append(conn)
    else:
        assert target.era is not None
        for _ in range(CONCURRENCY):
            client = McpClient(target.url, target.era, target.tool, {"petId": "1"})
            target.connections.append(client.conn)
            await client.open()
            if not target.workers:
                await client.check()
            target.workers.append(client.call_tool())
    # Warm-up: sequential, then a short burst at full concurrency.
    warm = await concurrency_one(target, warmup, 10.0)
    burst = await concurrency_n(target, 1.0, 4 * warmup)
    if warm.errors or burst.errors:
        raise CallFailed(f"{warm.errors + burst.errors} failed calls during warm-up")


async def measure_rounds(targets: list[Target], args: argparse.Namespace) -> None:
    for target in targets:
        try:
            await prepare(target, args.warmup)
        except Exception as exc:
            target.skipped = f"{type(exc).__name__}: {exc}"[:300]
            print(f"  {target.name}: skipped ({target.skipped})", flush=True)
    live = [t for t in targets if t.skipped is None]
    try:
        for round_no in range(1, args.rounds + 1):
            for target in live:
                one = await concurrency_one(target, args.c1_calls, args.c1_seconds)
                target.latencies += one.latencies
                target.c1_cpu += one.server_cpu
                target.c1_sys_cpu += one.server_sys_cpu
                target.c1_client_cpu += one.client_cpu
                target.c1_errors += one.errors
                many = await concurrency_n(target, args.c32_seconds, args.c32_max_calls)
                target.c32_calls += many.calls
                target.c32_seconds += many.seconds
                target.c32_cpu += many.server_cpu
                target.c32_client_cpu += many.client_cpu
                target.c32_errors += many.errors
                summary = {
                    "p50_ms": pct(one.latencies, 0.5),
                    "c1_calls": one.calls,
                    "c1_cpu_ms_per_call": one.server_cpu / max(1, one.calls) * 1000,
                    "c32_calls_per_s": many.calls / many.seconds,
                    "c32_cpu_ms_per_call": many.server_cpu / max(1, many.calls) * 1000,
                    "c32_server_cpu_utilisation": many.server_cpu / many.seconds,
                }
                target.rounds.append(summary)
                errors = one.errors + many.errors
                print(
                    f"  round {round_no} {target.name:24s} p50 {summary['p50_ms']:6.2f} ms  "
                    f"c32 {summary['c32_calls_per_s']:7.0f}/s  "
                    f"cpu {summary['c1_cpu_ms_per_call']:5.2f} ms/call"
                    + (f"  ERRORS {errors}" if errors else ""),
                    flush=True,
                )
    finally:
        for target in targets:
            for conn in target.connections:
                conn.close()


def target_result(target: Target) -> dict[str, Any]:
    if target.skipped:
        return {"skipped": target.skipped}
    n = len(target.latencies)
    return {
        "kind": target.kind,
        "era": target.era,
        "c1_calls": n,
        "p50_ms": pct(target.latencies, 0.5),
        "p90_ms": pct(target.latencies, 0.9),
        "p99_ms": pct(target.latencies, 0.99),
        "mean_ms": statistics.fmean(target.latencies) * 1000 if n else float("nan"),
        "c1_calls_per_s": n / sum(target.latencies) if n else float("nan"),
        "c1_cpu_ms_per_call": target.c1_cpu / max(1, n) * 1000,
        "c1_sys_cpu_ms_per_call": target.c1_sys_cpu / max(1, n) * 1000,
        "c1_client_cpu_ms_per_call": target.c1_client_cpu / max(1, n) * 1000,
        "c1_errors": target.c1_errors,
        "c32_calls": target.c32_calls,
        "c32_calls_per_s": target.c32_calls / target.c32_seconds if target.c32_seconds else float("nan"),
        "c32_cpu_ms_per_call": target.c32_cpu / max(1, target.c32_calls) * 1000,
        "c32_client_cpu_ms_per_call": target.c32_client_cpu / max(1, target.c32_calls) * 1000,
        "c32_server_cpu_utilisation": target.c32_cpu / target.c32_seconds if target.c32_seconds else 0.0,
        "c32_errors": target.c32_errors,
        "rss_mb": rss_mb(target.pid),
        "rounds": target.rounds,
        "p50_ms_median_of_rounds": statistics.median(r["p50_ms"] for r in target.rounds),
    }


# --- GitHub's spec --------------------------------------------------------------------------------


def github_breakdown(data_dir: Path) -> None:
    """In-process timing of an import (`gateway.py --gh-breakdown DIR`); prints one JSON line."""
    started = time.perf_counter()
    from catalog.crypto import load_or_create_key
    from catalog.db import create_engine
    from catalog.migrate import migrate
    from catalog.store import CatalogStore
    from connectors.openapi.convert import convert
    from connectors.openapi.loader import load_spec
    from connectors.ssrf import AddressPolicy
    from hub.importer import resolve_servers

    imported = time.perf_counter()
    spec = load_spec(str(GITHUB_SPEC))
    loaded = time.perf_counter()
    api = convert(spec)
    converted = time.perf_counter()
    api = resolve_servers(api, str(GITHUB_SPEC), "http://127.0.0.1:9", AddressPolicy(["127.0.0.1"]))
    resolved = time.perf_counter()
    url = f"sqlite+aiosqlite:///{(data_dir / 'catalog.db').resolve()}"
    data_dir.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}

    async def write() -> None:
        t0 = time.perf_counter()
        await migrate(url)
        store = CatalogStore(create_engine(url), load_or_create_key(data_dir, None))
        t1 = time.perf_counter()
        await store.put_api(
            "gh", api, source=str(GITHUB_SPEC), base_url="http://127.0.0.1:9", credentials=None
        )
        t2 = time.perf_counter()
        await store.aclose()
        times.update(migrate_s=t1 - t0, db_write_s=t2 - t1)

    asyncio.run(write())
    result = {
        "import_modules_s": imported - started,
        "load_spec_s": loaded - imported,
        "convert_s": converted - loaded,
        "resolve_servers_s": resolved - converted,
        **times,
        "tools": len(api.tools),
    }
    print(json.dumps(result), flush=True)


async def github_hub(port: int, pid: int, repeats: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/mcp"
    result: dict[str, Any] = {}
    client = McpClient(url, "legacy")
    modern = McpClient(url, "modern")
    try:
        await client.open()  # initialize first, so the timed request finds an open connection
        first, body = await client.post("tools/list", {})
        result["first_page_cold_ms"] = first * 1000
        result["first_page_bytes"] = len(body)
        warm = [(await client.post("tools/list", {}))[0] for _ in range(repeats)]
        result["first_page_warm_p50_ms"] = pct(warm, 0.5)
        await modern.open()
        warm_modern = [(await modern.post("tools/list", {}))[0] for _ in range(repeats)]
        result["first_page_warm_p50_ms_2026"] = pct(warm_modern, 0.5)
        # Walk every page (each decoded only after its timing, for the cursor).
        cursor: str | None = None
        pages = tools = 0
        walk = 0.0
        while True:
            elapsed, body = await client.post("tools/list", {"cursor": cursor} if cursor else {})
            walk += elapsed
            page = decode_message(body, client.conn.headers.get(b"content-type", b""))["result"]
            pages += 1
            tools += len(page["tools"])
            cursor = page.get("nextCursor")
            if not cursor:
                break
        result["walk_s"] = walk
        result["pages"], result["tools"] = pages, tools
    finally:
        client.conn.close()
        modern.conn.close()
    await asyncio.sleep(1.0)
    result["idle_rss_mb_after_walk"] = rss_mb(pid)
    return result


async def github_fastmcp(port: int, pid: int) -> dict[str, Any]:
    client = McpClient(f"http://127.0.0.1:{port}/mcp", "legacy")
    try:
        await client.open()
        first, body = await client.post("tools/list", {})
        message = decode_message(body, client.conn.headers.get(b"content-type", b""))
    finally:
        client.conn.close()
    await asyncio.sleep(1.0)
    return {
        "tools_list_first_ms": first * 1000,
        "tools_list_bytes": len(body),
        "tools": len(message["result"]["tools"]),
        "next_cursor": message["result"].get("nextCursor"),
        "idle_rss_mb_after_list": rss_mb(pid),
    }


T = TypeVar("T")


async def bounded(work: Coroutine[Any, Any, T], seconds: float) -> T:
    """`work`, cancelled after `seconds`: a hung server ends the run instead of stalling it."""
    return await asyncio.wait_for(work, seconds)


def run_json(cmd: list[str], env: dict[str, str], timeout: float = 180) -> dict[str, Any]:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=HUB_SRC)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stderr[-3000:]}")
    decoded: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return decoded


def github_phase(procs: Processes, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    print("GitHub spec: mcphub api add ...", flush=True)
    # First-ever use of a data dir also creates the database, the schema and the secret key;
    # reported on its own. The target is about importing into an existing catalog.
    fresh_dir = work / "hub-gh-fresh"
    out["api_add_fresh_dir_wall_s"] = mcphub_cli(
        "api", "add", "gh", str(GITHUB_SPEC), "--base-url", "http://127.0.0.1:9", data_dir=fresh_dir
    )
    gh_dir = work / "hub-gh"
    # The empty catalog the import goes into (database, schema, key), then the CLI's start-up alone
    # (interpreter, imports, one query), to read the import's wall time against.
    out["cli_startup_s"] = mcphub_cli("api", "list", data_dir=gh_dir)
    out["cli_start_existing_s"] = mcphub_cli("api", "list", data_dir=gh_dir)
    out["api_add_wall_s"] = mcphub_cli(
        "api", "add", "gh", str(GITHUB_SPEC), "--base-url", "http://127.0.0.1:9", data_dir=gh_dir
    )
    out["api_add_second_wall_s"] = mcphub_cli(  # a re-import: a new version over an existing one
        "api", "add", "gh", str(GITHUB_SPEC), "--base-url", "http://127.0.0.1:9", data_dir=gh_dir
    )
    print("GitHub spec: in-process breakdown ...", flush=True)
    out["breakdown"] = run_json(
        [sys.executable, str(Path(__file__).resolve()), "--gh-breakdown", str(work / "hub-gh-breakdown")],
        hub_env(),
    )
    print("GitHub spec: hub serving it ...", flush=True)
    port, ready_s = start_hub(procs, "hub-gh", gh_dir)
    pid = procs.procs["hub-gh"].pid
    out["hub_start_to_ready_s"] = ready_s
    out["hub_rss_mb_at_ready"] = rss_mb(pid)
    out["hub"] = asyncio.run(bounded(github_hub(port, pid, args.gh_page_repeats), 120))
    procs.stop("hub-gh")
    if not args.no_fastmcp:
        print("GitHub spec: FastMCP from_openapi ...", flush=True)
        python = str(ensure_fastmcp_venv())
        out["fastmcp_load"] = run_json(
            [python, str(FASTMCP_SCRIPT), "load", str(GITHUB_SPEC), str(PETSTORE_SPEC)], fastmcp_env()
        )
        if not args.no_fastmcp_github_serve:
            print("GitHub spec: FastMCP serving it ...", flush=True)
            port, ready_s = start_fastmcp(procs, "fastmcp-gh", GITHUB_SPEC, "http://127.0.0.1:9")
            out["fastmcp_start_to_ready_s"] = ready_s
            out["fastmcp"] = asyncio.run(bounded(github_fastmcp(port, procs.procs["fastmcp-gh"].pid), 180))
            procs.stop("fastmcp-gh")
    return out


# --- report -------------------------------------------------------------------------------------


def fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


TABLE = (
    ("target", 24, None),
    ("p50 ms", 7, "p50_ms"),
    ("p90 ms", 7, "p90_ms"),
    ("p99 ms", 7, "p99_ms"),
    ("+p50 ms", 8, "added"),
    ("p50/dir", 7, "ratio"),
    ("c=1 /s", 7, "c1_calls_per_s"),
    ("c=32 /s", 8, "c32_calls_per_s"),
    ("CPU c=1", 8, "c1_cpu_ms_per_call"),
    ("CPU c=32", 8, "c32_cpu_ms_per_call"),
    ("RSS MB", 7, "rss_mb"),
)


def print_table(rows: dict[str, dict[str, Any]]) -> None:
    direct = rows["direct"]
    print(
        "\n" + " ".join(f"{title:>{width}s}" if key else f"{title:{width}s}" for title, width, key in TABLE)
    )
    for name, row in rows.items():
        if "skipped" in row:
            print(f"{name:24s} skipped: {row['skipped']}")
            continue
        values = {
            **row,
            "added": row["p50_ms"] - direct["p50_ms"] if name != "direct" else None,
            "ratio": row["p50_ms"] / direct["p50_ms"] if name != "direct" else None,
        }
        cells = [f"{name:24s}"]
        for _, width, key in TABLE[1:]:
            assert key is not None
            digits = 0 if key in ("c1_calls_per_s", "c32_calls_per_s", "rss_mb") else 2
            cells.append(f"{fmt(values[key], digits):>{width}s}")
        print(" ".join(cells))
        if row["c1_errors"] or row["c32_errors"]:
            print(f"{'':24s} errors: {row['c1_errors']} at c=1, {row['c32_errors']} at c=32")
    print(
        "CPU = the server process's utime+stime per call, ms (for `direct`, the upstream's); "
        "+p50 = added latency over direct"
    )


def check_targets(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    rows: dict[str, dict[str, Any]] = results["targets"]
    direct = rows["direct"]
    fast = rows.get("fastmcp legacy", {"skipped": "not run"})
    checks: list[tuple[str, str, bool]] = []
    for name in ("hub legacy", "hub 2026-07-28"):
        row = rows.get(name, {"skipped": "not run"})
        if "skipped" in row:
            continue
        added = row["p50_ms"] - direct["p50_ms"]
        checks.append(
            (
                f"{name}: added p50 at c=1 <= {TARGET_ADDED_P50_MS} ms",
                f"{added:.2f} ms",
                added <= TARGET_ADDED_P50_MS,
            )
        )
        cpu = row["c1_cpu_ms_per_call"]
        checks.append(
            (
                f"{name}: CPU per call <= {TARGET_CPU_MS} ms",
                f"{cpu:.2f} ms at c=1, {row['c32_cpu_ms_per_call']:.2f} at c=32",
                cpu <= TARGET_CPU_MS,
            )
        )
        if "skipped" not in fast:
            x = row["c32_calls_per_s"] / fast["c32_calls_per_s"]
            checks.append(
                (
                    f"{name}: throughput c=32 >= {TARGET_THROUGHPUT_X}x FastMCP legacy",
                    f"{x:.1f}x",
                    x >= TARGET_THROUGHPUT_X,
                )
            )
    gh = results.get("github")
    if gh:
        wall = gh["api_add_wall_s"]
        checks.append(
            (
                f"GitHub spec imported < {TARGET_GH_IMPORT_S} s (`mcphub api add`, wall)",
                f"{wall:.2f} s",
                wall < TARGET_GH_IMPORT_S,
            )
        )
        page = gh["hub"]["first_page_cold_ms"]
        checks.append(
            (
                f"first tools/list page < {TARGET_GH_FIRST_PAGE_MS} ms (first request after start)",
                f"{page:.1f} ms",
                page < TARGET_GH_FIRST_PAGE_MS,
            )
        )
        rss = gh["hub"]["idle_rss_mb_after_walk"]
        checks.append(
            (
                f"idle RSS with the GitHub catalog < {TARGET_GH_IDLE_RSS_MB:.0f} MB",
                f"{rss:.0f} MB",
                rss < TARGET_GH_IDLE_RSS_MB,
            )
        )
    return checks


def report(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    rows: dict[str, dict[str, Any]] = results["targets"]
    print_table(rows)
    direct = rows["direct"]
    for era in ("legacy", "2026-07-28"):
        hub, fast = rows.get(f"hub {era}", {}), rows.get(f"fastmcp {era}", {})
        if not hub or not fast or "skipped" in hub or "skipped" in fast:
            continue
        added_hub, added_fast = hub["p50_ms"] - direct["p50_ms"], fast["p50_ms"] - direct["p50_ms"]
        cpu_hub, cpu_fast = hub["c1_cpu_ms_per_call"], fast["c1_cpu_ms_per_call"]
        rps_hub, rps_fast = hub["c32_calls_per_s"], fast["c32_calls_per_s"]
        print(f"\nFastMCP / hub, {era} era:")
        print(
            f"  added p50 at c=1    {added_fast:7.2f} / {added_hub:5.2f} ms = {added_fast / added_hub:5.1f}x"
        )
        print(f"  CPU per call c=1    {cpu_fast:7.2f} / {cpu_hub:5.2f} ms = {cpu_fast / cpu_hub:5.1f}x")
        print(
            f"  throughput c=32     hub {rps_hub:.0f}/s vs FastMCP {rps_fast:.0f}/s "
            f"= {rps_hub / rps_fast:.1f}x"
        )
    gh = results.get("github")
    if gh:
        b, h = gh["breakdown"], gh["hub"]
        print(
            f"\nGitHub spec import: `mcphub api add` {gh['api_add_wall_s']:.2f} s wall into a catalog "
            f"(re-import {gh['api_add_second_wall_s']:.2f} s; into a brand-new data dir "
            f"{gh['api_add_fresh_dir_wall_s']:.2f} s; `mcphub api list` {gh['cli_startup_s']:.2f} s creating "
            f"the empty catalog, {gh['cli_start_existing_s']:.2f} s on it: CLI start-up and imports)"
        )
        print(
            f"  in-process: imports {b['import_modules_s']:.2f} s, load_spec {b['load_spec_s']:.2f} s, "
            f"convert {b['convert_s']:.2f} s, resolve {b['resolve_servers_s']:.2f} s, "
            f"migrate {b['migrate_s']:.2f} s, DB write {b['db_write_s']:.2f} s ({b['tools']} tools)"
        )
        print(
            f"hub with the GitHub catalog: ready {gh['hub_start_to_ready_s']:.2f} s after start, "
            f"RSS {gh['hub_rss_mb_at_ready']:.0f} MB at ready"
        )
        print(
            f"  tools/list page 1: first {h['first_page_cold_ms']:.1f} ms ({h['first_page_bytes']} bytes), "
            f"then p50 {h['first_page_warm_p50_ms']:.2f} ms "
            f"(2026-07-28: {h['first_page_warm_p50_ms_2026']:.2f} ms)"
        )
        print(
            f"  all {h['pages']} pages / {h['tools']} tools in {h['walk_s'] * 1000:.0f} ms; "
            f"idle RSS after the walk {h['idle_rss_mb_after_walk']:.0f} MB"
        )
        if "fastmcp_load" in gh:
            f = gh["fastmcp_load"]
            print(
                f"FastMCP {f['fastmcp_version']}: from_openapi(GitHub) {f['from_openapi_s']:.2f} s "
                f"(+ JSON read {f['read_s']:.2f} s; before it: import {f['import_s']:.2f} s and a first "
                f"from_openapi(petstore) {f['first_from_openapi_warmup_spec_s']:.2f} s)"
            )
            print(
                f"  in-process list_tools {f['list_tools_in_process_s']:.2f} s; RSS {f['rss_mb']:.0f} MB, "
                f"{f['tools']} tools"
            )
        if "fastmcp" in gh:
            f = gh["fastmcp"]
            print(
                f"FastMCP serving GitHub: ready {gh['fastmcp_start_to_ready_s']:.2f} s after start; "
                f"tools/list ({f['tools']} tools, {f['tools_list_bytes']} bytes) "
                f"in {f['tools_list_first_ms']:.0f} ms; idle RSS {f['idle_rss_mb_after_list']:.0f} MB"
            )
    checks = check_targets(results)
    print("\nhub-core targets:")
    for label, value, passed in checks:
        print(f"  [{'PASS' if passed else 'MISS'}] {label}: {value}")
    return checks


# --- main ---------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
    }


def git_describe(path: Path) -> str | None:
    """The commit (and whether the tree has local changes) of a checkout; read-only git calls."""
    try:
        head = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return head.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")
    except (OSError, subprocess.TimeoutExpired):
        return None


def wait_quiet(limit_s: float, threshold: float) -> None:
    """Wait (at most `limit_s`) for the 1-minute load average to fall below `threshold`."""
    deadline = time.monotonic() + limit_s
    load = os.getloadavg()[0]
    if load < threshold or limit_s <= 0:
        return
    print(f"load average {load:.2f}: waiting up to {limit_s:.0f} s for a quieter machine ...", flush=True)
    while time.monotonic() < deadline and os.getloadavg()[0] >= threshold:
        time.sleep(5)
    print(f"load average now {os.getloadavg()[0]:.2f}", flush=True)


def petstore_phase(procs: Processes, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    upstream_port = free_port()
    upstream_url = f"http://127.0.0.1:{upstream_port}"
    upstream = procs.start(
        "upstream", [sys.executable, str(Path(__file__).resolve()), "--upstream", str(upstream_port)]
    )
    wait_http(procs, "upstream", upstream, f"{upstream_url}/pets/1")

    print("registering the petstore spec with two hubs ...", flush=True)
    for name in ("hub", "hub-sdk"):
        mcphub_cli(
            "api", "add", "petstore", str(PETSTORE_SPEC), "--base-url", upstream_url, data_dir=work / name
        )
    hub_port, _ = start_hub(procs, "hub", work / "hub")
    sdk_port, _ = start_hub(procs, "hub-sdk", work / "hub-sdk", fast_path=False)
    hub_pid, sdk_pid = procs.procs["hub"].pid, procs.procs["hub-sdk"].pid
    hub_url, sdk_url = f"http://127.0.0.1:{hub_port}/mcp", f"http://127.0.0.1:{sdk_port}/mcp"
    tool = "petstore_showPetById"
    targets = [
        Target("direct", "direct", upstream.pid, f"{upstream_url}/pets/1"),
        Target("hub legacy", "hub", hub_pid, hub_url, "legacy", tool),
        Target("hub 2026-07-28", "hub", hub_pid, hub_url, "modern", tool),
        Target("hub SDK path legacy", "hub-sdk", sdk_pid, sdk_url, "legacy", tool),
        Target("hub SDK path 2026-07-28", "hub-sdk", sdk_pid, sdk_url, "modern", tool),
    ]
    if not args.no_fastmcp:
        print("starting FastMCP ...", flush=True)
        fm_port, _ = start_fastmcp(procs, "fastmcp", PETSTORE_SPEC, upstream_url)
        fm_url, fm_pid = f"http://127.0.0.1:{fm_port}/mcp", procs.procs["fastmcp"].pid
        targets += [
            Target("fastmcp legacy", "fastmcp", fm_pid, fm_url, "legacy", "showPetById"),
            Target("fastmcp 2026-07-28", "fastmcp", fm_pid, fm_url, "modern", "showPetById"),
        ]
    print(f"measuring {len(targets)} targets in {args.rounds} interleaved rounds ...", flush=True)
    asyncio.run(bounded(measure_rounds(targets, args), 600))
    results = {t.name: target_result(t) for t in targets}
    for name in ("hub", "hub-sdk", "fastmcp", "upstream"):
        procs.stop(name)
    return results


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add = parser.add_argument
    add("--rounds", type=int, default=3, help="interleaved measurement rounds (default 3)")
    add("--c1-calls", type=int, default=700, help="calls per target and round at c=1 (default 700)")
    add("--c1-seconds", type=float, default=5.0, help="time cap per target and round at c=1 (default 5)")
    add("--c32-seconds", type=float, default=3.0, help="time per target and round at c=32 (default 3)")
    add("--c32-max-calls", type=int, default=20000, help="call cap per target and round at c=32")
    add("--warmup", type=int, default=200, help="sequential warm-up calls per target (default 200)")
    add("--gh-page-repeats", type=int, default=30, help="repeats of the warm tools/list page 1")
    add("--no-fastmcp", action="store_true", help="skip FastMCP (and its install)")
    add("--no-fastmcp-github-serve", action="store_true", help="don't serve GitHub's spec with FastMCP")
    add("--no-github", action="store_true", help="skip the GitHub-spec phase")
    add("--wait-quiet", type=float, default=0.0, metavar="S", help="first wait up to S s for a quiet machine")
    add("--quiet-below", type=float, default=1.0, metavar="L", help="quiet: 1-min load average < L (1.0)")
    add("--out", type=Path, help="results JSON (default /tmp/mcphub-bench/gateway-<time>.json)")
    add("--keep-workdir", action="store_true", help="keep the data dirs and server logs")
    add("--hub-src", type=Path, help="measure the hub of another checkout (default: this one)")
    add("--upstream", type=int, help=argparse.SUPPRESS)
    add("--gh-breakdown", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    global HUB_SRC
    args = parse_args()
    if args.hub_src:
        HUB_SRC = args.hub_src.resolve()
    if args.upstream:
        return run_upstream(args.upstream)
    if args.gh_breakdown:
        return github_breakdown(args.gh_breakdown)

    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()  # a cheaper load generator leaves more of the 2 cores to the servers
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not args.no_fastmcp:
        ensure_fastmcp_venv()
    wait_quiet(args.wait_quiet, args.quiet_below)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="mcphub-gateway-bench-"))
    procs = Processes(work)
    results: dict[str, Any] = {
        "machine": machine_info(),
        "hub_src": str(HUB_SRC),
        "hub_git": git_describe(HUB_SRC),
        "fastmcp": None if args.no_fastmcp else FASTMCP_REQUIREMENT,
        "settings": {k: str(v) for k, v in vars(args).items() if k not in ("upstream", "gh_breakdown")},
    }
    try:
        results["targets"] = petstore_phase(procs, work, args)
        results["github"] = None if args.no_github else github_phase(procs, work, args)
    finally:
        procs.stop_all()
        if args.keep_workdir:
            print(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    results["machine"]["loadavg_at_end"] = os.getloadavg()
    results["elapsed_s"] = time.perf_counter() - started
    checks = report(results)
    results["checks"] = [{"target": label, "value": value, "pass": passed} for label, value, passed in checks]
    out = args.out or Path("/tmp/mcphub-bench") / f"gateway-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    load = results["machine"]
    print(
        f"\nresults: {out}\nrun took {results['elapsed_s']:.0f} s; load average at start "
        f"{load['loadavg_at_start'][0]:.2f}, at end {load['loadavg_at_end'][0]:.2f} (2 cores: above ~0.3 "
        "means other work shared the machine)"
    )


if __name__ == "__main__":
    main()
