"""Bring the catalog schema to the newest Alembic revision, safely from several processes at once.

The whole upgrade runs in one transaction that first takes a database-wide lock (a PostgreSQL
advisory lock; SQLite's write lock via BEGIN IMMEDIATE). A second process starting at the same
moment waits, then finds the schema at head and does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from catalog.db import SQLITE_BEGIN_OPTION, create_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest revision; tests/catalog/test_migrate.py checks it against Alembic's own answer.
# Knowing it lets a database already at head skip loading Alembic (a third of a CLI start).
HEAD_REVISION = "c0002"
# Any fixed 64-bit number works; this is b"mcphubcm" (mcphub catalog migrations).
PG_MIGRATION_LOCK_KEY = int.from_bytes(b"mcphubcm", "big") & 0x7FFF_FFFF_FFFF_FFFF


def alembic_config() -> Config:
    """Config built in code: nothing depends on an alembic.ini in the working directory."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


# Alembic keeps the running migration's context in module globals (`alembic.context`, `op`),
# so two migrations in one process must never interleave, even against different databases.
_ALEMBIC_IN_PROCESS = threading.Lock()


async def migrate(url: str) -> None:
    """Upgrade the database at `url` to head. Idempotent; safe to call from several processes at once."""
    # Polled: an asyncio primitive cannot span threads and event loops, and a lock acquired in a
    # worker thread could end up held by a waiter that was cancelled meanwhile.
    while not _ALEMBIC_IN_PROCESS.acquire(blocking=False):  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    try:
        if not await _at_head(url):
            await _upgrade(url)
    finally:
        _ALEMBIC_IN_PROCESS.release()


async def _at_head(url: str) -> bool:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            try:
                version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            except Exception:  # no alembic_version table yet: a new database
                return False
            return bool(version == HEAD_REVISION)
    finally:
        await engine.dispose()


async def _upgrade(url: str) -> None:
    # NullPool: this engine lives for one upgrade; keep no connections behind.
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(upgrade_locked, alembic_config())
    finally:
        await engine.dispose()


def upgrade_locked(connection: Connection, config: Config, target: str = "head") -> None:
    """Run `alembic upgrade` on `connection` inside one transaction holding the migration lock."""
    from alembic import command

    with locked_transaction(connection):
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, target)
        finally:
            config.attributes.pop("connection", None)


@contextlib.contextmanager
def locked_transaction(connection: Connection) -> Iterator[None]:
    """A transaction that only one migrator at a time can be in."""
    if connection.dialect.name == "sqlite":
        connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    with connection.begin():
        if connection.dialect.name == "postgresql":
            # Released with the transaction, so a crashed migrator never leaves it held.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK_KEY})
        yield
