"""Alembic migrations: from empty, idempotent, concurrent, independent of the working directory."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection

from catalog.db import create_engine
from catalog.migrate import HEAD_REVISION, MIGRATIONS_DIR, alembic_config, migrate
from catalog.tables import Base, CatalogState

REPO_ROOT = Path(__file__).resolve().parents[2]
TABLES = {"alembic_version", "apis", "api_versions", "tools", "tool_overrides", "catalog_state"}


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _schema_state(conn: Connection) -> tuple[set[str], list[object]]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return set(inspect(conn).get_table_names()), compare_metadata(context, Base.metadata)


async def _inspect(url: str) -> tuple[set[str], list[object], str | None, list[tuple[int, int]]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            tables, diff = await conn.run_sync(_schema_state)
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            state = [(r.id, r.revision) for r in await conn.execute(select(CatalogState))]
    finally:
        await engine.dispose()
    return tables, diff, version, state


async def test_migrate_from_empty_then_again(db_url: str) -> None:
    await migrate(db_url)
    tables, diff, version, state = await _inspect(db_url)
    assert tables >= TABLES
    assert diff == []  # the migrations build exactly what catalog/tables.py describes
    assert version == _head()
    assert state == [(1, 0)]

    await migrate(db_url)  # idempotent: nothing to do, nothing changes
    assert await _inspect(db_url) == (tables, [], version, [(1, 0)])


async def test_concurrent_migrations_in_one_process(db_url: str) -> None:
    await asyncio.gather(*(migrate(db_url) for _ in range(3)))
    tables, diff, version, state = await _inspect(db_url)
    assert tables >= TABLES and diff == [] and version == _head() and state == [(1, 0)]


async def test_concurrent_migrations_from_several_processes(db_url: str) -> None:
    # Hub replicas (or a hub and a CLI command) starting at the same moment on an empty database.
    code = "import asyncio, sys; from catalog.migrate import migrate; asyncio.run(migrate(sys.argv[1]))"
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, db_url, cwd=REPO_ROOT, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(2)  # Python start-up dominates this test; two are enough to race
    ]
    results = [(await proc.communicate())[1] for proc in procs]
    assert [p.returncode for p in procs] == [0, 0], b"\n".join(results).decode()
    tables, diff, version, state = await _inspect(db_url)
    assert tables >= TABLES and diff == [] and version == _head() and state == [(1, 0)]


async def test_migrations_do_not_depend_on_the_working_directory(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'catalog.db'}"
    previous = Path.cwd()
    os.chdir(tmp_path)  # no alembic.ini, no migrations folder here
    try:
        await migrate(url)
    finally:
        os.chdir(previous)
    assert (await _inspect(url))[2] == _head()


def test_migration_files_are_package_data() -> None:
    # pyproject ships migrations/*.py and migrations/versions/*.py; nothing else may be needed.
    assert (MIGRATIONS_DIR / "env.py").is_file()
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    for revision in scripts.walk_revisions():
        assert revision.path is not None
        path = Path(revision.path)
        assert path.parent == MIGRATIONS_DIR / "versions" and path.suffix == ".py"
    assert len(scripts.get_heads()) == 1


async def test_unreachable_database_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="unable to open database file"):
        await migrate(f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'catalog.db'}")


def test_head_revision_constant_is_alembic_head() -> None:
    assert _head() == HEAD_REVISION
