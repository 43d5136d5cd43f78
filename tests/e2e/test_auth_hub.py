"""Acceptance: the real hub (`mcphub serve`, auth on) as an OAuth 2.1 resource server with its
embedded authorization server, in front of a real REST upstream. APIs, users and tokens are made
with the CLI, the way an operator would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp.client import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.auth.test_sdk_flow import provider
from tests.e2e.conftest import ERAS
from tests.support.hub_process import RunningHub, running_hub
from tests.support.upstream import PetstoreUpstream

ADMIN_SCOPE = "mcphub:admin"
PRM_PATH = "/.well-known/oauth-protected-resource/mcp"
READ_TOOLS = {"petstore_listPets", "petstore_showPetById"}
USER, PASSWORD = "alice", "alice-password-1"
ACCEPT = {"Accept": "application/json, text/event-stream"}


@dataclass
class Tokens:
    admin: str
    reader: str  # petstore:read, tenant "default"
    tenant_a: str  # every petstore and acmepets scope, tenant "default"
    tenant_b: str  # the same scopes, tenant "acme"
    doomed: str  # petstore:read, its client gets revoked


@pytest.fixture(scope="module")
def auth_hub(
    tmp_path_factory: pytest.TempPathFactory, petstore: PetstoreUpstream, shared_specs: Path
) -> Iterator[RunningHub]:
    """Auth on; `petstore` for tenant "default", the same spec as `acmepets` for tenant "acme"."""
    # What a client that asks for no scope (the SDK, from the challenge/PRM) is granted.
    env = {"MCPHUB_AUTH__DEFAULT_SCOPES": '["petstore:read"]'}
    with running_hub(tmp_path_factory.mktemp("auth-hub"), env, insecure=False) as hub:
        spec = str(shared_specs / "petstore-3.0.yaml")
        upstream = ["--base-url", petstore.base_url, "--header", "X-API-Key: header-secret"]
        # Each CLI run costs seconds of interpreter start-up: run the independent ones side by side.
        _, _, _, hub.admin_token = parallel(
            lambda: hub.cli("api", "add", "petstore", spec, *upstream),
            lambda: hub.cli("api", "add", "acmepets", spec, *upstream, "--tenant", "acme"),
            lambda: hub.cli("user", "add", USER, stdin=PASSWORD + "\n"),  # password on stdin
            lambda: mint(hub, "operator", ADMIN_SCOPE),
        )
        hub.wait_for_tools(lambda names: {"petstore_listPets", "acmepets_listPets"} <= set(names))
        yield hub


@pytest.fixture(scope="module")
def tokens(auth_hub: RunningHub) -> Tokens:
    everything = "petstore:read petstore:write acmepets:read acmepets:write"
    return Tokens(
        auth_hub.admin_token or "",
        *parallel(
            lambda: mint(auth_hub, "svc", "petstore:read"),
            lambda: mint(auth_hub, "svc-default", everything),
            lambda: mint(auth_hub, "svc-acme", everything, tenant="acme"),
            lambda: mint(auth_hub, "doomed", "petstore:read"),
        ),
    )


def parallel(*work: Callable[[], Any]) -> list[Any]:
    with ThreadPoolExecutor(len(work)) as pool:
        return [future.result() for future in [pool.submit(w) for w in work]]


def mint(hub: RunningHub, client: str, scope: str, tenant: str = "default") -> str:
    created = hub.cli("token", "create", "--client", client, "--scope", scope, "--tenant", tenant)
    return created.stdout.strip()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def rpc(method: str, **params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}


def mcp_client(hub: RunningHub, http: httpx2.AsyncClient, era: str) -> Client:
    return Client(streamable_http_client(hub.mcp_url, http_client=http), mode=era)


async def tool_names(hub: RunningHub, token: str, era: str) -> set[str]:
    async with httpx2.AsyncClient(headers=bearer(token)) as http, mcp_client(hub, http, era) as client:
        return {tool.name for tool in (await client.list_tools()).tools}


async def test_discovery_and_challenge(auth_hub: RunningHub) -> None:
    base = auth_hub.base_url
    async with httpx2.AsyncClient() as http:
        refused = await http.post(auth_hub.mcp_url, json=rpc("tools/list"), headers=ACCEPT)
        assert refused.status_code == 401, refused.text
        challenge = refused.headers["www-authenticate"]
        assert challenge.startswith("Bearer ")
        assert f'resource_metadata="{base}{PRM_PATH}"' in challenge
        assert "error=" not in challenge  # no token sent: no error code (RFC 6750 §3.1)
        # Every protected path answers alike; a garbage token is invalid_token.
        assert (await http.get(f"{base}/admin/apis")).status_code == 401
        garbage = await http.post(auth_hub.mcp_url, json=rpc("tools/list"), headers=bearer("nope"))
        assert garbage.status_code == 401
        assert 'error="invalid_token"' in garbage.headers["www-authenticate"]

        prm = (await http.get(base + PRM_PATH)).json()
        assert prm["resource"] == auth_hub.mcp_url
        assert prm["authorization_servers"] == [base]
        meta = (await http.get(f"{base}/.well-known/oauth-authorization-server")).json()
        assert meta["issuer"] == base
        assert meta["authorization_endpoint"] == f"{base}/oauth/authorize"
        assert meta["token_endpoint"] == f"{base}/oauth/token"
        assert meta["registration_endpoint"] == f"{base}/oauth/register"
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert (await http.get(meta["jwks_uri"])).json()["keys"]
        # Unprotected: the readiness probe needs no token.
        assert (await http.get(f"{base}/readyz")).status_code == 200


@pytest.mark.parametrize("era", ERAS)
async def test_read_token_lists_and_calls_only_read_tools(
    auth_hub: RunningHub, tokens: Tokens, petstore: PetstoreUpstream, era: str
) -> None:
    token = tokens.reader
    seen = len(petstore.requests)
    async with httpx2.AsyncClient(headers=bearer(token)) as http, mcp_client(auth_hub, http, era) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == READ_TOOLS  # no petstore_createPets; nothing of tenant acme
        listed = await client.call_tool("petstore_listPets", {"limit": 3})
        assert not listed.is_error, listed

        raw = await http.post(
            auth_hub.mcp_url,
            json=rpc("tools/call", name="petstore_createPets", arguments={"id": 1, "name": "Rex"}),
            headers=ACCEPT,
        )
    assert raw.status_code == 403, raw.text
    challenge = raw.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="petstore:write"' in challenge
    assert f'resource_metadata="{auth_hub.base_url}{PRM_PATH}"' in challenge

    arrived = petstore.requests[seen:]
    assert [(r.method, r.path) for r in arrived] == [("GET", "/pets")]  # the refused POST never left
    # The client's bearer token stays at the hub; the API's own credential goes upstream.
    assert "Authorization" not in petstore.last().headers
    assert petstore.last().headers["X-API-Key"] == "header-secret"
    assert all(token not in value for r in arrived for value in r.headers.values())


async def test_sdk_oauth_flow_against_the_real_hub(auth_hub: RunningHub, petstore: PetstoreUpstream) -> None:
    """DCR -> login/consent -> code + PKCE -> token -> MCP; then step-up to petstore:write."""
    auth, storage = provider(auth_hub.mcp_url, USER, PASSWORD)
    seen = len(petstore.requests)
    async with httpx2.AsyncClient(auth=auth) as http, mcp_client(auth_hub, http, "2026-07-28") as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == READ_TOOLS
        assert storage.client is not None and storage.client.client_secret  # registered by DCR
        assert storage.tokens is not None and storage.tokens.scope == "petstore:read"
        assert not (await client.call_tool("petstore_listPets", {})).is_error
        # The 403 names petstore:write; the SDK re-authorizes (login again) and retries.
        created = await client.call_tool("petstore_createPets", {"id": 41, "name": "Ada"})
        assert not created.is_error, created
    assert set((storage.tokens.scope or "").split()) == {"petstore:read", "petstore:write"}
    assert [(r.method, r.path) for r in petstore.requests[seen:]] == [("GET", "/pets"), ("POST", "/pets")]
    assert all("Authorization" not in r.headers for r in petstore.requests[seen:])

    # The stored grant serves the other protocol era without a new login.
    again, _ = provider(auth_hub.mcp_url, USER, "wrong password: no login expected")
    again.context.storage = storage
    async with httpx2.AsyncClient(auth=again) as http, mcp_client(auth_hub, http, "legacy") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert names == {*READ_TOOLS, "petstore_createPets"}


@pytest.mark.parametrize("era", ERAS)
async def test_tenants_are_walls(auth_hub: RunningHub, tokens: Tokens, era: str) -> None:
    tenant_a, tenant_b = tokens.tenant_a, tokens.tenant_b

    assert not any(name.startswith("acmepets_") for name in await tool_names(auth_hub, tenant_a, era))
    assert await tool_names(auth_hub, tenant_b, era) == {
        "acmepets_listPets",
        "acmepets_showPetById",
        "acmepets_createPets",
    }
    for token, foreign, own in (
        (tenant_a, "acmepets_listPets", "petstore_listPets"),
        (tenant_b, "petstore_listPets", "acmepets_listPets"),
    ):
        async with (
            httpx2.AsyncClient(headers=bearer(token)) as http,
            mcp_client(auth_hub, http, era) as client,
        ):
            assert not (await client.call_tool(own, {})).is_error
            with pytest.raises(MCPError) as refused:
                await client.call_tool(foreign, {})
            # Exactly what a tool that does not exist gets.
            assert refused.value.code == -32602 and refused.value.message == f"Unknown tool: {foreign}"


async def test_sse_transport_applies_the_same_walls(auth_hub: RunningHub, tokens: Tokens) -> None:
    for token, expected in ((tokens.reader, READ_TOOLS), (tokens.tenant_b, None)):
        async with Client(sse_client(f"{auth_hub.base_url}/sse", headers=bearer(token))) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            if expected is not None:
                assert names == expected
                assert not (await client.call_tool("petstore_listPets", {})).is_error
            else:
                assert names and all(name.startswith("acmepets_") for name in names)
                with pytest.raises(MCPError, match="Unknown tool: petstore_listPets"):
                    await client.call_tool("petstore_listPets", {})
    async with httpx2.AsyncClient() as http:
        assert (await http.get(f"{auth_hub.base_url}/sse")).status_code == 401


async def test_admin_api_needs_the_admin_scope(auth_hub: RunningHub, tokens: Tokens) -> None:
    reader = tokens.reader
    async with httpx2.AsyncClient(base_url=auth_hub.base_url) as http:
        for path in ("/admin/apis", "/admin/tools"):
            refused = await http.get(path, headers=bearer(reader))
            assert refused.status_code == 403, refused.text
            challenge = refused.headers["www-authenticate"]
            assert 'error="insufficient_scope"' in challenge and f'scope="{ADMIN_SCOPE}"' in challenge
        removed = await http.delete("/admin/apis/petstore", headers=bearer(reader))
        assert removed.status_code == 403

        apis = await http.get("/admin/apis", headers=bearer(tokens.admin))
        assert apis.status_code == 200, apis.text
        assert {"petstore", "acmepets"} <= {api["name"] for api in apis.json()["apis"]}


async def test_client_revoked_by_the_cli_is_refused(auth_hub: RunningHub, tokens: Tokens) -> None:
    token = tokens.doomed
    assert await tool_names(auth_hub, token, "2026-07-28") == READ_TOOLS
    auth_hub.cli("client", "revoke", "doomed")
    deadline = time.monotonic() + 10  # the running hub re-reads revocations every second
    async with httpx2.AsyncClient(headers={**bearer(token), **ACCEPT}) as http:
        while True:
            answer = await http.post(auth_hub.mcp_url, json=rpc("tools/list"))
            if answer.status_code == 401 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
    assert answer.status_code == 401 and "client revoked" in answer.json()["error_description"]
    listed = {
        line.split("\t")[0]: line.split("\t") for line in auth_hub.cli("client", "list").stdout.splitlines()
    }
    assert listed["doomed"][1:4] == ["cli", "default", "revoked"]
    assert listed["svc-acme"][1:4] == ["cli", "acme", "active"]
