"""Acceptance: the catalog persists, re-imports are atomic, and sessions hear about changes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import yaml
from mcp.client import Client

from tests.e2e.conftest import FIXTURES
from tests.support.hub_process import RunningHub, running_hub
from tests.support.upstream import PetstoreUpstream


def _grown_spec(tmp_path: Path, extra: int) -> Path:
    """petstore-plus with `extra` more operations, so a half-applied import would show."""
    spec: dict[str, Any] = yaml.safe_load((FIXTURES / "petstore-plus.yaml").read_text())
    for i in range(extra):
        spec["paths"][f"/extra/{i}"] = {
            "get": {"operationId": f"extra{i}", "responses": {"200": {"description": "ok"}}}
        }
    path = tmp_path / f"plus-{extra}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


async def _names(client: Client) -> set[str]:
    return {t.name for t in (await client.list_tools()).tools}


async def test_restart_keeps_the_catalog(
    tmp_path: Path, petstore: PetstoreUpstream, shared_specs: Path
) -> None:
    with running_hub(tmp_path / "data") as hub:
        hub.cli(
            "api",
            "add",
            "pets",
            str(shared_specs / "petstore-3.0.yaml"),
            "--base-url",
            petstore.base_url,
            "--header",
            "X-API-Key: kept-secret",
        )
        hub.wait_for_tools(lambda names: "pets_listPets" in names)
        hub.restart()
        async with Client(hub.mcp_url, mode="legacy") as client:
            assert {"pets_listPets", "pets_createPets", "pets_showPetById"} <= await _names(client)
            result = await client.call_tool("pets_listPets", {})
        assert not result.is_error
        assert petstore.last().headers["X-API-Key"] == "kept-secret"
        assert b"kept-secret" not in (hub.data_dir / "catalog.db").read_bytes(), (
            "credentials must be encrypted"
        )


async def test_reimport_while_clients_call_is_never_half_applied(
    tmp_path: Path, petstore: PetstoreUpstream
) -> None:
    small, big = _grown_spec(tmp_path, 0), _grown_spec(tmp_path, 60)
    small_names = {"plus_listPets", "plus_createPets", "plus_showPetById"}
    big_names = small_names | {f"plus_extra{i}" for i in range(60)}
    with running_hub(tmp_path / "data") as hub:
        hub.cli("api", "add", "plus", str(small), "--base-url", petstore.base_url, "--api-key", "k")
        hub.wait_for_tools(lambda names: "plus_listPets" in names)
        seen: list[set[str]] = []
        stop = anyio.Event()

        async def observe(era: str) -> None:
            async with Client(hub.mcp_url, mode=era) as client:  # type: ignore[arg-type]
                while not stop.is_set():
                    seen.append(await _names(client))
                    result = await client.call_tool("plus_listPets", {"limit": 1})
                    assert not result.is_error, result

        async def reimport() -> None:
            for spec in (big, small, big, small, big):
                await anyio.to_thread.run_sync(
                    lambda s=spec: hub.cli("api", "add", "plus", str(s), "--base-url", petstore.base_url)
                )
                await anyio.sleep(0.3)
            stop.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(observe, "legacy")
            tg.start_soon(observe, "2026-07-28")
            tg.start_soon(reimport)
        assert seen and all(names in (small_names, big_names) for names in seen)
        assert big_names in seen and small_names in seen


async def test_legacy_session_hears_tools_list_changed(tmp_path: Path, petstore: PetstoreUpstream) -> None:
    changed = asyncio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            changed.set()

    with running_hub(tmp_path / "data") as hub:
        async with Client(hub.mcp_url, mode="legacy", message_handler=on_message) as client:
            assert await _names(client) == set()
            await anyio.to_thread.run_sync(
                lambda: hub.cli(
                    "api",
                    "add",
                    "plus",
                    str(FIXTURES / "petstore-plus.yaml"),
                    "--base-url",
                    petstore.base_url,
                )
            )
            await asyncio.wait_for(changed.wait(), timeout=15)
            assert "plus_listPets" in await _names(client)


async def test_modern_listener_hears_tools_list_changed(tmp_path: Path, petstore: PetstoreUpstream) -> None:
    with running_hub(tmp_path / "data") as hub:
        async with Client(hub.mcp_url, mode="2026-07-28") as client:
            async with client.listen(tools_list_changed=True) as subscription:
                await anyio.to_thread.run_sync(
                    lambda: hub.cli(
                        "api",
                        "add",
                        "plus",
                        str(FIXTURES / "petstore-plus.yaml"),
                        "--base-url",
                        petstore.base_url,
                    )
                )
                with anyio.fail_after(15):
                    async for _event in subscription:
                        break
            assert "plus_listPets" in await _names(client)


def test_hub_refuses_insecure_mode_on_a_public_address(hub: RunningHub) -> None:
    result = hub.cli("serve", "--insecure-no-auth", "--host", "0.0.0.0", check=False)
    assert result.returncode == 2
    assert "loopback" in result.stderr


def test_cli_lists_apis_and_tools(petstore_hub: RunningHub) -> None:
    apis = petstore_hub.cli("api", "list").stdout
    assert "petstore" in apis and "plus" in apis
    tools = petstore_hub.cli("tools", "list", "--api", "plus").stdout.split("\n")
    assert any(line.startswith("plus_showPetById") for line in tools)
    assert not any(line.startswith("petstore_") for line in tools)
