"""Acceptance: the `mcp` SDK client calls a real REST upstream through the hub, on both protocol eras."""

from __future__ import annotations

import json

import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.e2e.conftest import ERAS
from tests.support.hub_process import RunningHub
from tests.support.upstream import PetstoreUpstream


@pytest.mark.parametrize("era", ERAS)
async def test_lists_one_tool_per_operation(petstore_hub: RunningHub, era: str) -> None:
    async with Client(petstore_hub.mcp_url, mode=era) as client:  # type: ignore[arg-type]
        result = await client.list_tools()
    names = {tool.name for tool in result.tools}
    assert {"petstore_listPets", "petstore_createPets", "petstore_showPetById"} <= names
    show = next(t for t in result.tools if t.name == "plus_showPetById")
    assert show.input_schema["required"] == ["petId", "X-Request-Id"] or set(
        show.input_schema["required"]
    ) == {
        "petId",
        "X-Request-Id",
    }
    assert show.annotations is not None and show.annotations.read_only_hint is True


@pytest.mark.parametrize("era", ERAS)
async def test_path_query_header_body_arrive_exactly(
    petstore_hub: RunningHub, petstore: PetstoreUpstream, era: str
) -> None:
    async with Client(petstore_hub.mcp_url, mode=era) as client:  # type: ignore[arg-type]
        created = await client.call_tool("plus_createPets", {"id": 7, "name": "Rex", "tag": "dog"})
        assert not created.is_error, created
        sent = petstore.last()
        assert (sent.method, sent.path) == ("POST", "/pets")
        assert json.loads(sent.body) == {"id": 7, "name": "Rex", "tag": "dog"}
        assert sent.headers["Content-Type"].startswith("application/json")
        assert sent.headers["X-API-Key"] == "plus-secret"

        shown = await client.call_tool("plus_showPetById", {"petId": "7", "X-Request-Id": "req-1"})
        sent = petstore.last()
        assert (sent.method, sent.path) == ("GET", "/pets/7")
        assert sent.headers["X-Request-Id"] == "req-1"
        assert sent.headers["X-API-Key"] == "plus-secret"
        assert not shown.is_error
        assert shown.structured_content == {"id": 7, "name": "Rex", "tag": "dog"}
        assert json.loads(shown.content[0].text) == {"id": 7, "name": "Rex", "tag": "dog"}  # type: ignore[union-attr]

        listed = await client.call_tool("petstore_listPets", {"limit": 5})
        sent = petstore.last()
        assert (sent.method, sent.path, sent.query) == ("GET", "/pets", [("limit", "5")])
        assert sent.headers["X-API-Key"] == "header-secret"
        assert not listed.is_error


@pytest.mark.parametrize("era", ERAS)
async def test_upstream_404_is_a_tool_error(
    petstore_hub: RunningHub, petstore: PetstoreUpstream, era: str
) -> None:
    async with Client(petstore_hub.mcp_url, mode=era) as client:  # type: ignore[arg-type]
        result = await client.call_tool("petstore_showPetById", {"petId": "999"})
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert "404" in text and "pet not found" in text


@pytest.mark.parametrize("era", ERAS)
async def test_client_authorization_header_is_not_forwarded(
    petstore_hub: RunningHub, petstore: PetstoreUpstream, era: str
) -> None:
    headers = {"Authorization": "Bearer client-token-must-not-leak"}
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(petstore_hub.mcp_url, http_client=http), mode=era) as client,  # type: ignore[arg-type]
    ):
        await client.call_tool("petstore_listPets", {})
    assert "Authorization" not in petstore.last().headers


@pytest.mark.parametrize("era", ERAS)
async def test_unknown_tool_and_bad_arguments_are_invalid_params(petstore_hub: RunningHub, era: str) -> None:
    async with Client(petstore_hub.mcp_url, mode=era) as client:  # type: ignore[arg-type]
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("no_such_tool", {})
        assert unknown.value.code == -32602 and "Unknown tool" in unknown.value.message
        with pytest.raises(MCPError) as bad:
            await client.call_tool("petstore_listPets", {"limit": "many"})
        assert bad.value.code == -32602 and "limit" in bad.value.message
        with pytest.raises(MCPError) as missing:
            await client.call_tool("petstore_showPetById", {})
        assert missing.value.code == -32602 and "petId" in missing.value.message
