"""Async engines for the catalog database: SQLite (embedded default) or PostgreSQL.

SQLite connections get WAL (readers never block the writer), a busy timeout (concurrent
writers wait instead of failing) and foreign keys. SQLAlchemy, not the sqlite3 module,
emits BEGIN, so a SELECT opens a real transaction: several reads then see one snapshot.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

# Execution option naming the BEGIN flavour on SQLite ("IMMEDIATE" takes the write lock up front).
SQLITE_BEGIN_OPTION = "catalog_sqlite_begin"
SQLITE_BUSY_TIMEOUT_MS = 30_000

_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+asyncpg"}


class DatabaseUrlError(ValueError):
    """The database URL names no backend the catalog supports."""


def normalize_url(url: str) -> URL:
    """Pick the async driver: `postgres(ql)://` becomes `postgresql+asyncpg://`, `sqlite://` `sqlite+aiosqlite://`."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # the message of the parse error may echo a password
        raise DatabaseUrlError("invalid database URL") from exc
    if parsed.drivername in _POSTGRES_SCHEMES:
        return parsed.set(drivername="postgresql+asyncpg")
    if parsed.drivername in ("sqlite", "sqlite+aiosqlite"):
        return parsed.set(drivername="sqlite+aiosqlite")
    raise DatabaseUrlError(
        f"unsupported database URL scheme {parsed.drivername!r}: use sqlite+aiosqlite:// or postgresql://"
    )


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine for the catalog; extra keyword arguments go to `create_async_engine`."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    # Pre-ping turns a PostgreSQL restart into one reconnect instead of a burst of errors.
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(parsed, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_engine(url: URL, **kwargs: Any) -> AsyncEngine:
    if url.database in (None, "", ":memory:"):
        # Every new connection to :memory: is a new, empty database: share one connection.
        kwargs.setdefault("poolclass", StaticPool)
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
    event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the driver (see _begin_sqlite_transaction).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL itself may have to wait for another process.
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Safe with WAL (a crash can lose the last commits, never corrupt) and much faster.
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _begin_sqlite_transaction(conn: Connection) -> None:
    mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
    if mode not in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
        raise ValueError(f"bad {SQLITE_BEGIN_OPTION}: {mode!r}")
    conn.exec_driver_sql(f"BEGIN {mode}")
