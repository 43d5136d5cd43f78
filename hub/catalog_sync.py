"""Keeps the hub's in-memory catalog snapshot in step with the database.

Writers (CLI, admin API, other replicas) bump the catalog revision in the same
transaction as their change; every replica polls that one integer and reloads on
change, so changes show up everywhere without restart or a message bus.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from catalog.snapshot import CatalogSnapshot, build_snapshot
from catalog.store import CatalogStore

logger = logging.getLogger(__name__)

ChangeListener = Callable[[CatalogSnapshot], Awaitable[None]]


class CatalogHolder:
    """The current snapshot plus the polling task that replaces it."""

    def __init__(self, store: CatalogStore, poll_interval_s: float) -> None:
        self._store = store
        self._poll_interval_s = poll_interval_s
        self._listeners: list[ChangeListener] = []
        self._reload_lock = asyncio.Lock()
        self.snapshot: CatalogSnapshot = build_snapshot([], revision=-1)

    def on_change(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    async def reload(self) -> bool:
        """Reload if the revision moved; True when a new snapshot was installed."""
        async with self._reload_lock:
            revision = await self._store.revision()
            if revision == self.snapshot.revision:
                return False
            apis = await self._store.load_catalog()
            # Parsing and naming thousands of tools is CPU work: keep it off the event loop.
            self.snapshot = await asyncio.to_thread(build_snapshot, apis, revision)
        logger.info("catalog reloaded", extra={"revision": revision, "tools": len(self.snapshot.tools)})
        for listener in self._listeners:
            await listener(self.snapshot)
        return True

    async def run(self) -> None:
        """Poll forever; errors are logged and retried, never fatal."""
        while True:
            await asyncio.sleep(self._poll_interval_s)
            try:
                await self.reload()
            except Exception:
                logger.exception("catalog reload failed")
