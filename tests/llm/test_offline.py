"""Acceptance 4: the router starts and serves with the network unreachable, without stalling."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _isolated(command: list[str]) -> list[str]:
    """Run inside a new network namespace with only loopback up, where this machine allows it."""
    if shutil.which("unshare") and shutil.which("ip"):
        probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
        if probe.returncode == 0:
            return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *command]
    return command


@pytest.mark.slow  # litellm's import alone takes 3-15 s on a busy 2-core machine
def test_starts_and_serves_offline_without_touching_the_network() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LITELLM_", "HF_"))}
    env["PYTHONPATH"] = str(REPO)
    command = _isolated([sys.executable, "-m", "tests.llm.offline_probe"])
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["text"] == "hello from claude"
    assert not outcome["contacted"]  # no cost-map or tokenizer fetch was even tried
    assert outcome["ready_s"] < 60  # import is 3-15 s; each stalled fetch would add its 5 s timeout
