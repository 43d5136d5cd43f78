"""Acceptance: the MCP Inspector CLI (npm, pinned) lists and calls the hub's tools on both protocol eras.

`mcp-inspector --cli <hub>/mcp --protocol-era legacy|modern --format json` is run as a subprocess
(tests/npm, Node 22, no npx) against the real hub; the upstream petstore records what arrives.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.hub_process import RunningHub
from tests.support.npm_tools import NodeTools, node_tools
from tests.support.upstream import PetstoreUpstream

pytestmark = pytest.mark.npm

# Inspector --protocol-era value -> the protocol version the hub must negotiate.
ERAS = {"legacy": "2025-11-25", "modern": "2026-07-28"}
SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"  # stamped on every 2026-07-28 result
EXIT_TOOL_ERROR = 5  # Inspector CLI: the tool returned isError:true


@dataclass
class InspectorRun:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.stdout)
        return value

    def result(self) -> dict[str, Any]:
        assert self.returncode == 0, f"inspector exited {self.returncode}:\n{self.stderr}\n{self.stdout}"
        result: dict[str, Any] = self.json()["result"]
        return result


RunInspector = Callable[..., InspectorRun]  # (era, *inspector args) -> InspectorRun


@pytest.fixture(scope="module")
def inspector() -> NodeTools:
    return node_tools("mcp-inspector")


@pytest.fixture(scope="module")
def hub_url(inspector: NodeTools, petstore_hub: RunningHub) -> str:
    # Depends on `inspector` first, so missing npm tools skip before a hub is started.
    return petstore_hub.mcp_url


@pytest.fixture(scope="module")
def run(inspector: NodeTools, hub_url: str, tmp_path_factory: pytest.TempPathFactory) -> RunInspector:
    home = tmp_path_factory.mktemp("inspector-home")

    def run_inspector(era: str, *args: str) -> InspectorRun:
        cmd = [
            inspector.path("mcp-inspector"),
            "--cli",
            hub_url,
            "--transport",
            "http",
            "--protocol-era",
            era,
            "--format",
            "json",
            *args,
        ]
        proc = subprocess.run(cmd, env=inspector.env(home), capture_output=True, text=True, timeout=120)
        return InspectorRun(proc.returncode, proc.stdout, proc.stderr)

    return run_inspector


def _era_stamp(result: dict[str, Any], era: str) -> None:
    """Modern results carry the server's identity in _meta; legacy results do not."""
    if era == "modern":
        assert result["_meta"][SERVER_INFO_META]["name"] == "mcphub"
    else:
        assert SERVER_INFO_META not in result.get("_meta", {})


@pytest.mark.parametrize("era", list(ERAS))
def test_connect_negotiates_the_era(run: RunInspector, era: str) -> None:
    result = run(era, "--method", "initialize").result()
    assert result["protocolVersion"] == ERAS[era]
    assert result["serverInfo"]["name"] == "mcphub"
    assert "tools" in result["capabilities"]


@pytest.mark.parametrize("era", list(ERAS))
def test_tools_list_shows_the_petstore_tools_with_schemas(run: RunInspector, era: str) -> None:
    # --strict: the Inspector's schema-portability lint; exit 6 on any error-severity problem.
    listed = run(era, "--method", "tools/list", "--strict")
    tools = {tool["name"]: tool for tool in listed.result()["tools"]}
    assert {"petstore_listPets", "petstore_createPets", "petstore_showPetById"} <= tools.keys()
    show = tools["petstore_showPetById"]
    assert show["inputSchema"] == {
        "type": "object",
        "properties": {"petId": {"type": "string", "description": "The id of the pet to retrieve"}},
        "required": ["petId"],
        "additionalProperties": False,
    }
    assert show["annotations"]["readOnlyHint"] is True
    assert show["outputSchema"]["properties"]["id"]["type"] == "integer"
    limit = tools["petstore_listPets"]["inputSchema"]["properties"]["limit"]
    assert limit["type"] == "integer" and limit["maximum"] == 100
    assert set(tools["petstore_createPets"]["inputSchema"]["required"]) == {"id", "name"}


@pytest.mark.parametrize("era", list(ERAS))
def test_tools_call_reaches_the_upstream(run: RunInspector, petstore: PetstoreUpstream, era: str) -> None:
    pet_id = 7100 + list(ERAS).index(era)
    pet = {"id": pet_id, "name": f"Inspected-{era}", "tag": "cli"}
    petstore.pets[pet_id] = pet
    seen = len(petstore.requests)

    args_json = json.dumps({"petId": str(pet_id)})
    result = run(
        era, "--method", "tools/call", "--tool-name", "petstore_showPetById", "--tool-args-json", args_json
    ).result()
    assert result["isError"] is False
    assert result["structuredContent"] == pet
    assert json.loads(result["content"][0]["text"]) == pet
    _era_stamp(result, era)
    [sent] = petstore.requests[seen:]
    assert (sent.method, sent.path) == ("GET", f"/pets/{pet_id}")
    assert sent.headers["X-API-Key"] == "header-secret"  # the hub's stored upstream credential

    # key=value arguments are JSON-coerced by the Inspector: limit=1 arrives as an integer query.
    seen = len(petstore.requests)
    listed = run(era, "--method", "tools/call", "--tool-name", "petstore_listPets", "--tool-arg", "limit=1")
    result = listed.result()
    assert result["isError"] is False
    assert len(json.loads(result["content"][0]["text"])) == 1
    [sent] = petstore.requests[seen:]
    assert (sent.method, sent.path, sent.query) == ("GET", "/pets", [("limit", "1")])


@pytest.mark.parametrize("era", list(ERAS))
def test_upstream_error_is_a_tool_error(run: RunInspector, petstore: PetstoreUpstream, era: str) -> None:
    missing = run(
        era,
        "--method",
        "tools/call",
        "--tool-name",
        "petstore_showPetById",
        "--tool-args-json",
        '{"petId":"404404"}',
    )
    assert missing.returncode == EXIT_TOOL_ERROR, missing.stderr
    result = missing.json()["result"]
    assert result["isError"] is True
    assert "404" in result["content"][0]["text"] and "pet not found" in result["content"][0]["text"]
    assert petstore.last().path == "/pets/404404"
