"""Shared fixtures for the whole suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_SPECS = (REPO_ROOT / ".." / "shared" / "specs").resolve()


def shared_spec_index() -> list[dict[str, Any]]:
    """Entries of ../shared/specs/index.json (file, version, operations, ...)."""
    data = json.loads((SHARED_SPECS / "index.json").read_text())
    specs: list[dict[str, Any]] = data["specs"]
    return specs


@pytest.fixture(scope="session")
def shared_specs() -> Path:
    if not SHARED_SPECS.is_dir():
        pytest.fail(f"shared spec corpus not found at {SHARED_SPECS}")
    return SHARED_SPECS
