"""Alembic environment for the catalog.

`catalog.migrate.migrate()` passes its own connection (already in a locked transaction) through
`config.attributes["connection"]`. Run by hand, e.g. to write a new revision, give the URL:
`alembic -c catalog/alembic.ini -x url=sqlite+aiosqlite:///data/catalog.db upgrade head`.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from catalog.db import create_engine, normalize_url
from catalog.migrate import locked_transaction
from catalog.tables import Base

config = context.config
target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER constraints; batch mode rebuilds the table instead.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _cli_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("MCPHUB_DATABASE_URL")
    if not url:
        raise SystemExit("give the database URL: alembic -x url=postgresql://... (or MCPHUB_DATABASE_URL)")
    return url


async def _run_from_cli(url: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run_locked)
    finally:
        await engine.dispose()


def _run_locked(connection: Connection) -> None:
    # The same lock the hub's startup migration takes.
    with locked_transaction(connection):
        run_on(connection)


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
    elif context.is_offline_mode():
        context.configure(
            url=normalize_url(_cli_url()),
            target_metadata=target_metadata,
            literal_binds=True,
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_from_cli(_cli_url()))


main()
