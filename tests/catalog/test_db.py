"""Engine creation: URL normalisation and the SQLite connection settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from catalog.db import DatabaseUrlError, create_engine, normalize_url, session_factory


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgres://u:p@db:5432/x", "postgresql+asyncpg"),
        ("postgresql://u@db/x", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@db/x", "postgresql+asyncpg"),
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:////tmp/x.db", "sqlite+aiosqlite"),
    ],
)
def test_urls_get_the_async_driver(url: str, driver: str) -> None:
    normalized = normalize_url(url)
    assert normalized.drivername == driver
    assert normalized.database == make_database(url)


def make_database(url: str) -> str:
    return url.rsplit("/", 1)[1] if url.startswith("postgres") else "/tmp/x.db"


def test_unsupported_urls_are_refused_without_echoing_them() -> None:
    with pytest.raises(DatabaseUrlError, match="mysql"):
        normalize_url("mysql://root:pw@db/x")
    with pytest.raises(DatabaseUrlError) as failure:
        normalize_url("::not a url with secret-pw::")
    assert "secret-pw" not in str(failure.value)


async def test_sqlite_connections_are_configured(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.connect() as conn:
            pragmas = {
                name: await conn.scalar(text(f"PRAGMA {name}"))
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
        assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000, "synchronous": 1}
    finally:
        await engine.dispose()


async def test_sqlite_reads_happen_inside_a_transaction(tmp_path: Path) -> None:
    # The driver's legacy mode would run a lone SELECT outside any transaction, so two SELECTs
    # could see different data; the catalog needs one snapshot across several reads.
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        async with engine.connect() as reader, reader.begin():
            assert await reader.scalar(text("SELECT v FROM t")) == 1
            async with engine.begin() as writer:
                await writer.execute(text("UPDATE t SET v = 2"))
            assert await reader.scalar(text("SELECT v FROM t")) == 1  # still the reader's snapshot
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT v FROM t")) == 2
    finally:
        await engine.dispose()


async def test_in_memory_sqlite_shares_one_connection() -> None:
    engine = create_engine("sqlite+aiosqlite://")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v INTEGER)"))
        async with session_factory(engine)() as session:
            assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    finally:
        await engine.dispose()
