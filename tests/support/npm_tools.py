"""The pinned Node tools under tests/npm (Inspector CLI, conformance suite, Node 22), run without npx.

`cd tests/npm && npm install` (or `make npm-tools`) installs them. Missing tools skip the test
outside CI and fail it when CI=true, so a CI job can never pass by silently skipping.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

NPM_DIR = Path(__file__).resolve().parents[1] / "npm"
BIN_DIR = NPM_DIR / "node_modules" / ".bin"
MIN_NODE_MAJOR = 22  # conformance 0.2.0-alpha.x needs fs.globSync; inspector 2.12 declares node >= 22.19


@dataclass(frozen=True)
class NodeTools:
    bin_dir: Path
    node_version: str

    def path(self, name: str) -> str:
        return str(self.bin_dir / name)

    def env(self, home: Path) -> dict[str, str]:
        """Environment for a tool run: our Node 22 first on PATH, a private HOME (the Inspector
        keeps a catalog and OAuth state under ~/.mcp-inspector), no colour codes in the output."""
        env = dict(os.environ)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env["HOME"] = str(home)
        env["NO_COLOR"] = "1"
        env.pop("FORCE_COLOR", None)
        return env


def _unavailable(reason: str) -> NoReturn:
    message = f"{reason}; install the pinned tools with `make npm-tools` (or `cd tests/npm && npm install`)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def node_tools(*names: str) -> NodeTools:
    """The tools named (e.g. "conformance", "mcp-inspector"), or skip/fail as described above."""
    missing = [n for n in ("node", *names) if not (BIN_DIR / n).exists()]
    if missing:
        _unavailable(f"npm test tools missing from {BIN_DIR}: {', '.join(missing)}")
    try:
        version = subprocess.run(
            [str(BIN_DIR / "node"), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        _unavailable(f"{BIN_DIR / 'node'} does not run ({exc})")
    major = int(version.lstrip("v").split(".")[0]) if version.startswith("v") else 0
    if major < MIN_NODE_MAJOR:
        _unavailable(f"tests/npm has Node {version}, the tools need Node >= {MIN_NODE_MAJOR}")
    return NodeTools(BIN_DIR, version)
