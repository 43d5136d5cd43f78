"""FastMCP side of `benchmarks/gateway.py`; runs in FastMCP's own venv, never in the hub's.

    python gateway_fastmcp.py serve SPEC PORT UPSTREAM_URL    # from_openapi over streamable HTTP
    python gateway_fastmcp.py load SPEC WARMUP_SPEC           # time from_openapi, print one JSON line

Only FastMCP's defaults are used (stateful sessions, SSE responses), with the banner, the update
check and uvicorn's access log off. This file imports nothing from the hub.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("FASTMCP_CHECK_FOR_UPDATES", "off")
os.environ.setdefault("FASTMCP_SHOW_SERVER_BANNER", "false")


def read_spec(path: str) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith((".yaml", ".yml")):
        import yaml

        spec: dict[str, Any] = yaml.safe_load(text)
        return spec
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def build(spec: dict[str, Any], upstream_url: str) -> Any:
    import httpx2
    from fastmcp import FastMCP

    client = httpx2.AsyncClient(base_url=upstream_url, timeout=30.0)
    return FastMCP.from_openapi(spec, client=client, name="bench")


def serve(spec_path: str, port: int, upstream_url: str) -> None:
    server = build(read_spec(spec_path), upstream_url)
    server.run(
        transport="http",
        host="127.0.0.1",
        port=port,
        log_level="WARNING",
        show_banner=False,
        uvicorn_config={"access_log": False},
    )


def load(spec_path: str, warmup_spec_path: str) -> None:
    """Time `from_openapi` on `spec_path`, after one warm-up build that pays FastMCP's lazy imports."""
    started = time.perf_counter()
    import fastmcp

    imported = time.perf_counter()
    build(read_spec(warmup_spec_path), "http://127.0.0.1:9")
    warmed = time.perf_counter()
    spec = read_spec(spec_path)
    parsed = time.perf_counter()
    server = build(spec, "http://127.0.0.1:9")
    built = time.perf_counter()
    tools = asyncio.run(server.list_tools())
    listed = time.perf_counter()
    result = {
        "import_s": imported - started,
        "first_from_openapi_warmup_spec_s": warmed - imported,
        "read_s": parsed - warmed,
        "from_openapi_s": built - parsed,
        "list_tools_in_process_s": listed - built,
        "tools": len(tools),
        "rss_mb": rss_mb(),
        "fastmcp_version": fastmcp.__version__,
    }
    print(json.dumps(result), flush=True)


def main() -> None:
    mode, *rest = sys.argv[1:]
    if mode == "serve":
        serve(rest[0], int(rest[1]), rest[2])
    elif mode == "load":
        load(rest[0], rest[1])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
