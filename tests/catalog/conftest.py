"""Catalog fixtures: real SQLite files and real PostgreSQL databases, one fresh database per test."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from catalog.crypto import SecretBox
from catalog.db import create_engine
from catalog.migrate import migrate
from catalog.store import CatalogStore
from connectors.openapi.model import ApiDef, OperationPlan, ParamSpec, SecurityScheme, ToolDef

PG_HOST = os.environ.get("MCPHUB_TEST_PG_HOST", "127.0.0.1:5432")
PG_USERS = ("postgres", "root")
BACKENDS = ["sqlite", "postgresql"]


async def _pg_server_url() -> str | None:
    """`postgresql://user@host` of the first user that can connect to database `test`."""
    for user in PG_USERS:
        try:
            conn = await asyncpg.connect(f"postgresql://{user}@{PG_HOST}/test", timeout=3)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            continue
        await conn.close()
        return f"postgresql://{user}@{PG_HOST}"
    return None


@pytest.fixture(scope="session")
async def pg_server() -> str:
    url = await _pg_server_url()
    if url is None:
        users = ", ".join(PG_USERS)
        reason = f"PostgreSQL is not reachable at {PG_HOST} (tried users {users}, database test)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@pytest.fixture
async def pg_database(pg_server: str) -> AsyncIterator[str]:
    """A fresh, empty database (unique name, so parallel runs never meet); dropped afterwards."""
    name = f"mcphub_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(f"{pg_server}/test")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{pg_server}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, not yet migrated, on each backend. (Sync: it pulls in async fixtures.)"""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}"
    url: str = request.getfixturevalue("pg_database")
    return url


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; tests copy it (migrating every test's database would be slow)."""
    path = tmp_path_factory.mktemp("template") / "catalog.db"
    await migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
async def pg_session_database(pg_server: str) -> AsyncIterator[str]:
    """One migrated database per test session (per xdist worker); tests empty it before use.

    Creating a database per test costs up to a second on a busy server; TRUNCATE costs ~10 ms.
    """
    name = f"mcphub_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(f"{pg_server}/test")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        await migrate(f"{pg_server}/{name}")
        yield f"{pg_server}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def pg_migrated_database(pg_session_database: str) -> str:
    conn = await asyncpg.connect(pg_session_database)
    try:
        await conn.execute(
            "TRUNCATE tools, api_versions, apis, tool_overrides RESTART IDENTITY CASCADE;"
            "UPDATE catalog_state SET revision = 0"
        )
    finally:
        await conn.close()
    return pg_session_database


@pytest.fixture(params=BACKENDS)
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at the newest schema revision, on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp_path / "catalog.db")
        return f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}"
    url: str = request.getfixturevalue("pg_migrated_database")
    return url


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([SecretBox.generate_key()])


@pytest.fixture
async def store(migrated_url: str, box: SecretBox) -> AsyncIterator[CatalogStore]:
    catalog = CatalogStore(create_engine(migrated_url), box)
    try:
        yield catalog
    finally:
        await catalog.aclose()


def make_tool(key: str, name: str, *, marker: str = "", schema_bytes: int = 0) -> ToolDef:
    """A tool whose schemas carry `marker`, padded to about `schema_bytes` of JSON."""
    method, _, path = key.partition(" ")
    padding = {f"p{i}": {"type": "string", "description": "x" * 200} for i in range(schema_bytes // 240)}
    return ToolDef(
        key=key,
        name=name,
        title=name.replace("_", " "),
        description=f"{name} {marker}".strip(),
        input_schema={
            "type": "object",
            "properties": {"id": {"type": "integer"}, **padding},
            "required": ["id"],
            "x-marker": marker,
        },
        output_schema={"type": "object", "x-marker": marker, "properties": padding} if schema_bytes else None,
        plan=OperationPlan(
            method=method,
            path=path,
            server_url="https://api.example.com",
            params=(ParamSpec(name="id", location="query", arg="id", required=True),),
            security=(("key",),),
        ),
        annotations={"readOnlyHint": method == "GET"},
        scopes=("read",) if method == "GET" else ("write",),
        deprecated=name.endswith("old"),
        tags=("things",),
    )


def make_api(count: int = 3, *, marker: str = "", schema_bytes: int = 0, title: str = "Things") -> ApiDef:
    return ApiDef(
        title=title,
        version="1.2.3",
        description="An API of things",
        openapi_version="3.0.3",
        servers=["https://api.example.com"],
        security_schemes={
            "key": SecurityScheme(name="key", type="apiKey", location="header", param_name="X-Key")
        },
        tools=[
            make_tool(f"GET /things/{i}", f"get_thing_{i}", marker=marker, schema_bytes=schema_bytes)
            for i in range(count)
        ],
        warnings=["something odd in the spec"],
    )


def api_kwargs(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source": "things.yaml",
        "base_url": "https://api.example.com",
        "credentials": None,
    }
    values.update(overrides)
    return values
