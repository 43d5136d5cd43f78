"""Acceptance: every shared spec imports and every path operation is a valid tool, seen through MCP."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client

from tests.conftest import shared_spec_index
from tests.support.hub_process import RunningHub, running_hub
from tests.support.metaschema import META
from tests.support.spec_walk import required_params

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
SPECS = shared_spec_index()


def _api_name(entry: dict[str, Any]) -> str:
    stem = Path(entry["file"]).parts[0].split(".")[0]
    return "s" + re.sub(r"[^a-z0-9]", "", stem.lower())[:20]


@pytest.fixture(scope="module")
def all_specs_hub(tmp_path_factory: pytest.TempPathFactory, shared_specs: Path) -> Iterator[RunningHub]:
    with running_hub(tmp_path_factory.mktemp("allspecs")) as hub:
        for entry in SPECS:
            hub.cli(
                "api",
                "add",
                _api_name(entry),
                str(shared_specs / entry["file"]),
                "--base-url",
                "http://127.0.0.1:9",
            )
        yield hub


async def _all_tools(hub: RunningHub, era: str) -> list[Any]:
    tools: list[Any] = []
    cursor: str | None = None
    async with Client(hub.mcp_url, mode=era) as client:  # type: ignore[arg-type]
        while True:
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                return tools


@pytest.mark.slow
@pytest.mark.parametrize("era", ["legacy", "2026-07-28"])
async def test_every_operation_is_a_valid_tool(all_specs_hub: RunningHub, era: str) -> None:
    tools = await _all_tools(all_specs_hub, era)
    names = [t.name for t in tools]
    assert len(names) == len(set(names)), "tool names must be unique"
    assert names == sorted(names), "tools/list order must be deterministic"
    for entry in SPECS:
        prefix = _api_name(entry) + "_"
        count = sum(1 for n in names if n.startswith(prefix))
        assert count == entry["operations"], (
            f"{entry['file']}: {count} tools for {entry['operations']} operations"
        )
    for tool in tools:
        assert NAME_PATTERN.match(tool.name), tool.name
        assert tool.input_schema.get("type") == "object"


@pytest.mark.slow
async def test_every_schema_is_valid_json_schema_2020_12(all_specs_hub: RunningHub) -> None:
    # The schemas are the same on both eras; check each distinct one once (GitHub's are large).
    tools = await _all_tools(all_specs_hub, "legacy")
    schemas = {
        json.dumps(s, sort_keys=True): s for t in tools for s in (t.input_schema, t.output_schema) if s
    }
    for schema in schemas.values():
        errors = list(META.iter_errors(schema))
        assert not errors, errors[0].message


@pytest.mark.slow
def test_every_required_parameter_is_required(all_specs_hub: RunningHub, shared_specs: Path) -> None:
    import httpx2

    catalog = httpx2.get(f"{all_specs_hub.base_url}/admin/tools", timeout=60).json()["tools"]
    by_key = {(t["api"], t["key"]): t for t in catalog}
    for entry in SPECS:
        for key, required in required_params(shared_specs / entry["file"]).items():
            tool = by_key[(_api_name(entry), key)]
            arg_of = {(p["in"], p["name"]): p["arg"] for p in tool["params"]}
            for param in required:
                arg = arg_of[param]
                assert arg in tool["inputSchema"].get("required", []), (
                    f"{entry['file']} {key}: {param} not required"
                )
