"""The `mcp` SDK's OAuthClientProvider against the embedded AS over real HTTP: discovery,
registration (DCR and CIMD), authorization code + PKCE with login/consent, token, refresh."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from tests.auth.harness import add_user, login, serve_auth

REDIRECT = "http://127.0.0.1:33418/callback"
CIMD_URL = "https://client.example.test/mcp-client.json"


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def provider(
    mcp_url: str, user: str, password: str, **kwargs: Any
) -> tuple[OAuthClientProvider, MemoryStorage]:
    storage = MemoryStorage()
    location: dict[str, str] = {}

    async def redirect_handler(url: str) -> None:
        async with httpx2.AsyncClient() as browser:
            location["url"] = await login(browser, url, user, password)

    async def callback_handler() -> AuthorizationCodeResult:
        query = parse_qs(urlsplit(location["url"]).query)
        return AuthorizationCodeResult(code=query["code"][0], state=query.get("state", [None])[0])

    metadata = OAuthClientMetadata(client_name="sdk test", redirect_uris=[REDIRECT])  # type: ignore[list-item]
    auth = OAuthClientProvider(mcp_url, metadata, storage, redirect_handler, callback_handler, **kwargs)
    return auth, storage


def rpc(method: str, **params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}


async def test_dcr_flow_lists_and_calls_within_scope(tmp_path: Path) -> None:
    async with serve_auth(tmp_path) as hub:
        await add_user(hub.layer, "alice", "pw-alice")
        auth, storage = provider(hub.mcp_url, "alice", "pw-alice")
        async with httpx2.AsyncClient(auth=auth) as client:
            listed = await client.post(hub.mcp_url, json=rpc("tools/list"))
            assert listed.status_code == 200, listed.text
            assert [t["name"] for t in listed.json()["result"]["tools"]] == ["pets_list"]
            called = await client.post(hub.mcp_url, json=rpc("tools/call", name="pets_list"))
            assert called.json()["result"]["content"][0]["text"] == "called pets_list; authorization=None"
        assert storage.client is not None and storage.client.client_secret  # registered by DCR
        assert storage.tokens is not None and storage.tokens.refresh_token


async def test_cimd_flow(tmp_path: Path) -> None:
    documents = {
        CIMD_URL: {
            "client_id": CIMD_URL,
            "client_name": "cimd test",
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
        }
    }
    fetched: list[str] = []

    async def fetch_json(url: str) -> Any:
        fetched.append(url)
        return documents[url]

    async with serve_auth(tmp_path, fetch_json=fetch_json) as hub:
        await add_user(hub.layer, "bob", "pw-bob")
        auth, storage = provider(hub.mcp_url, "bob", "pw-bob", client_metadata_url=CIMD_URL)
        async with httpx2.AsyncClient(auth=auth) as client:
            listed = await client.post(hub.mcp_url, json=rpc("tools/list"))
            assert listed.status_code == 200, listed.text
        assert storage.client is not None and storage.client.client_id == CIMD_URL
        assert fetched == [CIMD_URL]  # cached after the first look-up
        clients = await hub.layer.store.list_clients()
        assert [c.kind for c in clients] == ["cimd"]


async def test_step_up_on_insufficient_scope(tmp_path: Path) -> None:
    async with serve_auth(tmp_path) as hub:
        await add_user(hub.layer, "carol", "pw-carol")
        auth, storage = provider(hub.mcp_url, "carol", "pw-carol")
        async with httpx2.AsyncClient(auth=auth) as client:
            assert (await client.post(hub.mcp_url, json=rpc("tools/list"))).status_code == 200
            assert storage.tokens is not None and storage.tokens.scope == "pets:read"
            # The 403 challenge names pets:write; the SDK re-authorizes for the union and retries.
            called = await client.post(hub.mcp_url, json=rpc("tools/call", name="pets_create"))
            assert called.status_code == 200, called.text
            assert "called pets_create" in called.json()["result"]["content"][0]["text"]
        assert set((storage.tokens.scope or "").split()) == {"pets:read", "pets:write"}


async def test_refresh_after_expiry(tmp_path: Path) -> None:
    async with serve_auth(tmp_path) as hub:
        await add_user(hub.layer, "dave", "pw-dave")
        auth, storage = provider(hub.mcp_url, "dave", "pw-dave")
        async with httpx2.AsyncClient(auth=auth) as client:
            assert (await client.post(hub.mcp_url, json=rpc("tools/list"))).status_code == 200
            first = storage.tokens
            assert first is not None
            auth.context.token_expiry_time = time.time() - 1  # the client believes it expired
            assert (await client.post(hub.mcp_url, json=rpc("tools/list"))).status_code == 200
            second = storage.tokens
        assert second is not None and second.refresh_token != first.refresh_token  # rotated
        # The old refresh token is spent; presenting it again revokes the family (reuse detection).
        assert storage.client is not None
        form = {
            "grant_type": "refresh_token",
            "refresh_token": first.refresh_token or "",
            "client_id": storage.client.client_id,
            "client_secret": storage.client.client_secret or "",
        }
        async with httpx2.AsyncClient() as raw:
            reused = await raw.post(hub.base_url + "/oauth/token", data=form)
            assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
            form["refresh_token"] = second.refresh_token or ""
            after = await raw.post(hub.base_url + "/oauth/token", data=form)
            assert after.status_code == 400, "the whole family is revoked after reuse"
