"""Each way a bearer token or a call must be refused, over real HTTP."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx2
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from hub.auth.issuing import ACCESS_TOKEN_TYP
from tests.auth.harness import RunningAuth, serve_auth


def claims(hub: RunningAuth, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": hub.base_url,
        "sub": "alice",
        "aud": hub.mcp_url,
        "client_id": "c1",
        "tenant": "default",
        "scope": "pets:read pets:write",
        "iat": now,
        "exp": now + 600,
    }
    return {**base, **overrides}


def sign(hub: RunningAuth, body: dict[str, Any], **headers: Any) -> str:
    assert hub.layer.issuer is not None
    return hub.layer.issuer.sign(body, ACCESS_TOKEN_TYP) if not headers else _sign_other(body, headers)


def _sign_other(body: dict[str, Any], headers: dict[str, Any]) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(body, key, algorithm="RS256", headers={"typ": ACCESS_TOKEN_TYP, **headers})


async def post(
    hub: RunningAuth, token: str | None, method: str = "tools/list", **params: Any
) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    async with httpx2.AsyncClient() as client:
        return await client.post(hub.mcp_url, json=body, headers=headers)


def assert_invalid(response: httpx2.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert 'error="invalid_token"' in challenge and "resource_metadata=" in challenge
    assert reason in response.json()["error_description"]


async def test_rejections(tmp_path: Path) -> None:
    async with serve_auth(tmp_path) as hub:
        assert hub.layer.issuer is not None
        kid = hub.layer.issuer._key.kid

        none = await post(hub, None)
        assert none.status_code == 401
        prm = f'resource_metadata="{hub.base_url}/.well-known/oauth-protected-resource/mcp"'
        assert none.headers["www-authenticate"] == f'Bearer {prm}, scope="pets:read"'
        async with httpx2.AsyncClient() as client:
            doc = (await client.get(f"{hub.base_url}/.well-known/oauth-protected-resource/mcp")).json()
        assert doc["resource"] == hub.mcp_url and doc["authorization_servers"] == [hub.base_url]

        assert (await post(hub, sign(hub, claims(hub)))).status_code == 200
        assert_invalid(await post(hub, sign(hub, claims(hub, exp=int(time.time()) - 120))), "expired")
        assert_invalid(await post(hub, sign(hub, claims(hub, aud="http://other/mcp"))), "another resource")
        assert_invalid(await post(hub, sign(hub, claims(hub, iss="http://evil"))), "untrusted issuer")
        assert_invalid(await post(hub, sign(hub, claims(hub), kid=kid)), "Signature verification failed")
        assert_invalid(await post(hub, sign(hub, claims(hub), kid="nope")), "unknown signing key")
        future = int(time.time()) + 600
        assert_invalid(await post(hub, sign(hub, claims(hub, nbf=future))), "not yet valid")

        await hub.layer.revoke_client("c1")
        assert_invalid(await post(hub, sign(hub, claims(hub))), "client revoked")


async def test_scope_and_tenant_walls(tmp_path: Path) -> None:
    async with serve_auth(tmp_path) as hub:
        reader = sign(hub, claims(hub, scope="pets:read"))
        denied = await post(hub, reader, "tools/call", name="pets_create")
        assert denied.status_code == 403
        challenge = denied.headers["www-authenticate"]
        assert 'error="insufficient_scope"' in challenge and 'scope="pets:write"' in challenge
        # Operation scopes win over the per-API default.
        writer = sign(hub, claims(hub, scope="pets:read pets:write billing:write"))
        assert (await post(hub, writer, "tools/call", name="billing_charge")).status_code == 403

        # Tenant "default" cannot see or call tenant "acme"'s tool, even with its scope.
        nosy = sign(hub, claims(hub, scope="pets:read secret:read"))
        names = [t["name"] for t in (await post(hub, nosy)).json()["result"]["tools"]]
        assert names == ["pets_list"]
        guessed = (await post(hub, nosy, "tools/call", name="secret_list")).json()
        missing = (await post(hub, nosy, "tools/call", name="no_such_tool")).json()
        assert guessed["error"]["message"] == "Unknown tool: secret_list"
        assert missing["error"]["message"] == "Unknown tool: no_such_tool"

        acme = sign(hub, claims(hub, tenant="acme", scope="secret:read"))
        assert [t["name"] for t in (await post(hub, acme)).json()["result"]["tools"]] == ["secret_list"]


async def test_token_never_reaches_the_app(tmp_path: Path) -> None:
    async with serve_auth(tmp_path) as hub:
        token = sign(hub, claims(hub))
        text = (await post(hub, token, "tools/call", name="pets_list")).json()["result"]["content"][0]["text"]
        assert text.endswith("authorization=None")
