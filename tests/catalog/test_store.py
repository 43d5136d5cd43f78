"""CatalogStore against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select, text

from catalog.crypto import SecretBox
from catalog.db import create_engine
from catalog.snapshot import build_snapshot
from catalog.store import CatalogError, CatalogStore
from catalog.tables import ApiVersion, Tool
from connectors.openapi.model import OperationPlan
from tests.catalog.conftest import api_kwargs, make_api, make_tool

SECRET = "sk-live-very-secret-value-0123456789"


async def test_put_list_get_remove(store: CatalogStore) -> None:
    info = await store.put_api(
        "things", make_api(3), **api_kwargs(credentials={"headers": {"X-Key": SECRET}})
    )
    assert (info.name, info.version, info.tool_count, info.tenant) == ("things", 1, 3, "default")
    assert info.has_credentials and info.spec_version == "1.2.3" and info.openapi_version == "3.0.3"
    assert info.security_schemes["key"].param_name == "X-Key"

    listed = await store.list_apis()
    assert [a.name for a in listed] == ["things"]
    fetched = await store.get_api("things")
    assert fetched is not None
    assert fetched.version == 1 and fetched.tool_count == 3 and fetched.has_credentials
    assert fetched.warnings == ["something odd in the spec"] and fetched.servers == ["https://api.example.com"]
    assert fetched.security_schemes == info.security_schemes
    assert fetched.source == "things.yaml" and fetched.base_url == "https://api.example.com"
    assert fetched.created_at.endswith("+00:00")
    assert await store.get_api("nope") is None

    assert await store.remove_api("things") is True
    assert await store.list_apis() == []
    assert await store.get_api("things") is None
    assert await store.remove_api("things") is False


async def test_load_catalog_round_trips_tools(store: CatalogStore) -> None:
    api = make_api(3, schema_bytes=2000)
    await store.put_api("things", api, **api_kwargs(credentials={"api_key": SECRET}))

    [loaded] = await store.load_catalog()
    assert (loaded.name, loaded.tenant, loaded.version) == ("things", "default", 1)
    assert loaded.credentials == {"api_key": SECRET}
    assert loaded.security_schemes == api.security_schemes
    assert [t.key for t in loaded.tools] == [t.key for t in api.tools]  # spec order
    for stored, original in zip(loaded.tools, api.tools, strict=True):
        assert isinstance(stored.input_schema, str)  # raw JSON, parsed only by whoever needs it
        assert orjson.loads(stored.input_schema) == original.input_schema
        assert stored.output_schema is not None
        assert orjson.loads(stored.output_schema) == original.output_schema
        # The stored plan is exactly the contract's to_dict() form.
        assert orjson.loads(stored.plan) == orjson.loads(orjson.dumps(original.plan.to_dict()))
        assert OperationPlan.from_dict(orjson.loads(stored.plan)) == original.plan
        assert stored.annotations == original.annotations
        assert stored.scopes == original.scopes and stored.tags == original.tags
        assert (stored.name, stored.title) == (original.name, original.title)
        assert stored.description == original.description


async def test_readd_creates_new_version_and_keeps_overrides(store: CatalogStore) -> None:
    await store.put_api("things", make_api(3, marker="v1"), **api_kwargs())
    await store.set_tool_override("things", "GET /things/0", enabled=False)
    await store.set_tool_override("things", "GET /things/1", name="first_thing", description="Custom.")

    info = await store.put_api("things", make_api(4, marker="v2"), **api_kwargs())
    assert info.version == 2 and info.tool_count == 4

    [loaded] = await store.load_catalog()
    assert loaded.version == 2
    assert {t.description.split()[-1] for t in loaded.tools} == {"v2"}
    assert loaded.overrides["GET /things/0"].enabled is False
    assert loaded.overrides["GET /things/1"].name == "first_thing"

    snapshot = build_snapshot(await store.load_catalog(), await store.revision())
    assert [t.name for t in snapshot.tools] == ["first_thing", "things_get_thing_2", "things_get_thing_3"]
    assert snapshot.get("first_thing").description == "Custom."  # type: ignore[union-attr]


async def test_override_fields_update_reset_and_validate(store: CatalogStore) -> None:
    await store.put_api("things", make_api(2), **api_kwargs())
    key = "GET /things/0"
    result = await store.set_tool_override("things", key, name="renamed")
    assert (result.enabled, result.name, result.description) == (None, "renamed", None)
    result = await store.set_tool_override("things", key, description="Better words.")
    assert (result.name, result.description) == ("renamed", "Better words.")  # None leaves a field alone
    result = await store.set_tool_override("things", key, name="")
    assert (result.name, result.description) == (None, "Better words.")  # "" resets it
    await store.set_tool_override("things", key, description="")
    [loaded] = await store.load_catalog()
    assert loaded.overrides == {}  # nothing left to override: the row is gone

    with pytest.raises(CatalogError, match="no API named"):
        await store.set_tool_override("missing", key, enabled=False)
    with pytest.raises(CatalogError, match="has no operation"):
        await store.set_tool_override("things", "DELETE /nothing", enabled=False)
    with pytest.raises(CatalogError, match="invalid tool name"):
        await store.set_tool_override("things", key, name="has spaces")
    with pytest.raises(CatalogError, match="invalid tool name"):
        await store.set_tool_override("things", key, name="x" * 65)


async def test_remove_forgets_overrides(store: CatalogStore) -> None:
    await store.put_api("things", make_api(2), **api_kwargs())
    await store.set_tool_override("things", "GET /things/0", enabled=False)
    await store.remove_api("things")
    await store.put_api("things", make_api(2), **api_kwargs())
    [loaded] = await store.load_catalog()
    assert loaded.overrides == {} and loaded.version == 1


async def test_revision_moves_with_every_write_and_only_then(store: CatalogStore) -> None:
    start = await store.revision()
    await store.put_api("things", make_api(1), **api_kwargs())
    after_put = await store.revision()
    assert after_put > start
    await store.set_tool_override("things", "GET /things/0", name="t0")
    after_override = await store.revision()
    assert after_override > after_put

    # Refused or no-op requests leave it alone.
    assert await store.remove_api("missing") is False
    with pytest.raises(CatalogError):
        await store.set_tool_override("things", "GET /missing", name="x")
    with pytest.raises(CatalogError):
        await store.put_api("bad name", make_api(1), **api_kwargs())
    assert await store.revision() == after_override

    await store.remove_api("things")
    assert await store.revision() > after_override


async def test_only_the_last_three_versions_are_kept(store: CatalogStore) -> None:
    for _ in range(5):
        info = await store.put_api("things", make_api(2), **api_kwargs())
    assert info.version == 5
    async with store.engine.connect() as conn:
        versions = (await conn.scalars(select(ApiVersion.version).order_by(ApiVersion.version))).all()
        tools = await conn.scalar(select(func.count()).select_from(Tool))
    assert list(versions) == [3, 4, 5]
    assert tools == 3 * 2


async def test_bad_api_names_are_refused(store: CatalogStore) -> None:
    for name in ["", "1things", "_x", "has space", "a" * 33, "dots.not.allowed", "ünïcode", "x/y", "x\n"]:
        with pytest.raises(CatalogError, match="invalid API name"):
            await store.put_api(name, make_api(1), **api_kwargs())
    with pytest.raises(CatalogError, match="invalid tenant"):
        await store.put_api("things", make_api(1), **api_kwargs(), tenant="")
    assert await store.list_apis() == []


async def test_longest_and_shortest_names_are_fine(store: CatalogStore) -> None:
    for name in ("a", "A" + "b-_9" * 7 + "xyz"):
        assert len(name) <= 32
        assert (await store.put_api(name, make_api(1), **api_kwargs())).name == name


async def test_duplicate_tool_keys_are_refused(store: CatalogStore) -> None:
    api = make_api(2)
    api.tools.append(make_tool("GET /things/0", "again"))
    with pytest.raises(CatalogError, match="share the key"):
        await store.put_api("things", api, **api_kwargs())
    assert await store.list_apis() == []


async def test_yaml_flavoured_schemas_are_stored(store: CatalogStore) -> None:
    # YAML specs give integer keys and dates; they are stored as JSON would spell them.
    api = make_api(1)
    api.tools[0].input_schema = {"type": "object", "x-codes": {200: "ok"}, "example": date(2020, 1, 2)}
    await store.put_api("things", api, **api_kwargs())
    [loaded] = await store.load_catalog()
    assert orjson.loads(loaded.tools[0].input_schema)["x-codes"] == {"200": "ok"}
    assert orjson.loads(loaded.tools[0].input_schema)["example"] == "2020-01-02"


async def test_api_without_tools(store: CatalogStore) -> None:
    info = await store.put_api("empty", make_api(0), **api_kwargs(credentials={}))
    assert info.tool_count == 0 and not info.has_credentials
    [loaded] = await store.load_catalog()
    assert loaded.tools == () and loaded.credentials is None


async def test_tenants_are_separate(store: CatalogStore) -> None:
    await store.put_api("things", make_api(1), **api_kwargs())
    await store.put_api("things", make_api(2), **api_kwargs(), tenant="acme")
    assert [(a.tenant, a.tool_count) for a in await store.list_apis()] == [("acme", 2), ("default", 1)]
    assert [a.tenant for a in await store.list_apis(tenant="acme")] == ["acme"]
    assert (await store.get_api("things", tenant="acme")).tool_count == 2  # type: ignore[union-attr]
    assert await store.remove_api("things", tenant="acme")
    assert [a.tenant for a in await store.list_apis()] == ["default"]


async def test_concurrent_writers_are_serialised(
    migrated_url: str, store: CatalogStore, box: SecretBox
) -> None:
    # Two engines, as two hub processes would have; both register the same new API at once.
    other = CatalogStore(create_engine(migrated_url), box)
    try:
        results = await asyncio.gather(
            store.put_api("things", make_api(3), **api_kwargs()),
            other.put_api("things", make_api(3), **api_kwargs()),
            other.put_api("more", make_api(1), **api_kwargs()),
        )
    finally:
        await other.aclose()
    assert sorted(r.version for r in results[:2]) == [1, 2]
    assert [a.name for a in await store.list_apis()] == ["more", "things"]


async def test_readers_never_see_a_half_replaced_api(
    migrated_url: str, store: CatalogStore, box: SecretBox
) -> None:
    await store.put_api("things", make_api(40, marker="m0", schema_bytes=500), **api_kwargs())
    reader = CatalogStore(create_engine(migrated_url), box)  # separate pool: a different "process"
    writes_done = asyncio.Event()
    seen: set[str] = set()

    async def read_until_done() -> int:
        reads = 0
        while not writes_done.is_set() or reads < 5:
            apis = await reader.load_catalog()
            [api] = apis
            markers = {orjson.loads(t.input_schema)["x-marker"] for t in api.tools}
            assert len(markers) == 1, f"mixed versions in one read: {markers}"
            (marker,) = markers
            assert len(api.tools) == 40 + int(marker[1:]) % 2  # tool count matches that version
            seen.add(marker)
            reads += 1
        return reads

    async def write() -> None:
        try:
            for i in range(1, 9):
                api = make_api(40 + i % 2, marker=f"m{i}", schema_bytes=500)
                await store.put_api("things", api, **api_kwargs())
                await asyncio.sleep(0)
        finally:
            writes_done.set()

    try:
        reads, _ = await asyncio.gather(read_until_done(), write())
    finally:
        await reader.aclose()
    assert reads >= 5 and len(seen) >= 2


async def test_credentials_are_encrypted_at_rest_sqlite(tmp_path: Path, box: SecretBox) -> None:
    from catalog.migrate import migrate

    path = tmp_path / "catalog.db"
    url = f"sqlite+aiosqlite:///{path}"
    await migrate(url)
    store = CatalogStore(create_engine(url), box)
    try:
        await store.put_api("things", make_api(1), **api_kwargs(credentials={"headers": {"X-Key": SECRET}}))
        [loaded] = await store.load_catalog()
        assert loaded.credentials == {"headers": {"X-Key": SECRET}}
        raw = _database_files(tmp_path)
        assert b"X-Key" in raw or b"things" in raw  # the data is there...
        assert SECRET.encode() not in raw  # ...but not the secret, neither in the file nor in the WAL
    finally:
        await store.aclose()
    assert SECRET.encode() not in _database_files(tmp_path)


def _database_files(directory: Path) -> bytes:
    """The SQLite file and its WAL/shm companions, as raw bytes."""
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()) if p.name.startswith("catalog.db"))


async def test_credentials_are_encrypted_at_rest(store: CatalogStore, box: SecretBox) -> None:
    await store.put_api("things", make_api(1), **api_kwargs(credentials={"api_key": SECRET}))
    async with store.engine.connect() as conn:
        sealed = await conn.scalar(select(ApiVersion.credentials))
        as_text = await conn.scalar(text("SELECT security_schemes || source || warnings FROM api_versions"))
    assert sealed is not None and SECRET.encode() not in bytes(sealed)
    assert SECRET not in as_text
    assert box.decrypt_json(bytes(sealed)) == {"api_key": SECRET}

    wrong_key = CatalogStore(store.engine, SecretBox([SecretBox.generate_key()]))
    with pytest.raises(CatalogError, match=r"'things'.*cannot be decrypted") as failure:
        await wrong_key.load_catalog()
    assert SECRET not in str(failure.value)


async def test_github_sized_import_round_trips(store: CatalogStore) -> None:
    # ~GitHub: 1,223 operations; ~6 MB of schema JSON in total. (Its speed is measured in benchmarks/.)
    api = make_api(1223, schema_bytes=4800)
    info = await store.put_api("github", api, **api_kwargs())
    replaced = await store.put_api("github", api, **api_kwargs())
    snapshot = build_snapshot(await store.load_catalog(), await store.revision())
    assert info.tool_count == replaced.tool_count == len(snapshot.tools) == 1223
