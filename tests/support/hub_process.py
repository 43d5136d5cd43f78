"""Run the real hub (`mcphub serve`) as a subprocess on a free port, and its CLI against the same data."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningHub:
    data_dir: Path
    port: int
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    extra_args: list[str] = field(default_factory=list)  # more `mcphub serve` flags
    # False: serve with OAuth on (embedded authorization server) instead of `--insecure-no-auth`.
    insecure: bool = True
    # With auth on: the bearer token this helper's own admin API calls (wait_for_tools) send.
    admin_token: str | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.data_dir / "hub.log"
        if not self.insecure:
            # The hub and the CLI (`mcphub token create`) must agree on issuer and audience; the
            # CLI has no --port, so both take the public URL from the environment.
            self.env.setdefault("MCPHUB_AUTH__PUBLIC_URL", self.base_url)

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"} if self.admin_token else {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def cli(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `mcphub <args>` against this hub's data dir (catalog commands)."""
        cmd = [sys.executable, "-m", "hub", *args, "--data-dir", str(self.data_dir)]
        result = subprocess.run(cmd, env=self.env, capture_output=True, text=True, input=stdin, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"mcphub {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def start(self) -> None:
        flags = ["--port", str(self.port), "--data-dir", str(self.data_dir)]
        if self.insecure:
            flags.insert(0, "--insecure-no-auth")
        cmd = [sys.executable, "-m", "hub", "serve", *flags, *self.extra_args]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"hub exited with {self.proc.returncode}:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/readyz", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"hub not ready after {timeout_s}s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_tools(self, predicate: object, timeout_s: float = 10.0) -> None:
        """Poll the admin API until `predicate(tool_names)` holds (the hub picks up CLI writes by polling)."""
        assert callable(predicate)
        deadline = time.monotonic() + timeout_s
        names: list[str] = []
        while time.monotonic() < deadline:
            answer = httpx.get(f"{self.base_url}/admin/tools", headers=self.admin_headers, timeout=5)
            names = [t["name"] for t in answer.json()["tools"]]
            if predicate(names):
                return
            time.sleep(0.1)
        raise AssertionError(f"catalog did not reach the expected state; tools: {names[:20]}")


def hub_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPHUB_")}
    env.update(
        {
            "MCPHUB_LOG_LEVEL": "INFO",
            "MCPHUB_CATALOG_POLL_INTERVAL_S": "0.2",
            # Test upstreams live on loopback, which the SSRF guard blocks by default.
            "MCPHUB_NETWORK__ALLOW_PRIVATE": '["127.0.0.1", "localhost"]',
        }
    )
    env.update(extra or {})
    return env


@contextlib.contextmanager
def running_hub(
    data_dir: Path, extra_env: dict[str, str] | None = None, *, insecure: bool = True
) -> Iterator[RunningHub]:
    """`insecure=False` starts the hub with auth on; mint an admin token with its CLI (`token create`)."""
    hub = RunningHub(data_dir=data_dir, port=free_port(), env=hub_env(extra_env), insecure=insecure)
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()
