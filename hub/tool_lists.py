"""tools/list: catalog snapshot pages as MCP wire data, built once per snapshot and page.

The lean route sends a page as pre-serialised JSON: the catalog keeps every schema as
JSON text, so a page is spliced together without parsing a single schema. The SDK route
needs parsed dicts; those are built only when it asks.
"""

from __future__ import annotations

from typing import Any

import orjson

from catalog.snapshot import CatalogSnapshot, CatalogTool, InvalidCursorError
from hub.auth.principal import Principal
from hub.auth.scopes import ScopedViews
from hub.catalog_sync import CatalogHolder
from hub.tool_calls import INVALID_PARAMS, ToolCallError


def tool_wire(tool: CatalogTool, *, raw: bool) -> dict[str, Any]:
    """The MCP Tool object; with `raw`, schemas stay JSON text (orjson fragments)."""
    wire: dict[str, Any] = {"name": tool.name}
    if tool.title:
        wire["title"] = tool.title
    wire["description"] = tool.description
    wire["inputSchema"] = orjson.Fragment(tool.raw_input_schema) if raw else tool.input_schema
    if tool.raw_output_schema is not None:
        wire["outputSchema"] = orjson.Fragment(tool.raw_output_schema) if raw else tool.output_schema
    if tool.annotations:
        wire["annotations"] = tool.annotations
    return wire


class ToolLister:
    """Pages of the current snapshot; each cached until the snapshot changes."""

    def __init__(self, holder: CatalogHolder, page_size: int) -> None:
        self._holder = holder
        self._page_size = page_size
        self._revision = -2
        # Keyed by (tenant, scopes, cursor): principals with equal grants share pages.
        self._json_pages: dict[tuple[str, frozenset[str], str | None] | str | None, dict[str, Any]] = {}
        self._views = ScopedViews()

    def _snapshot(self, principal: Principal | None) -> CatalogSnapshot:
        snapshot = self._holder.snapshot
        return snapshot if principal is None else self._views.view(snapshot, principal)

    def page(self, cursor: str | None, principal: Principal | None = None) -> dict[str, Any]:
        """The page with parsed schemas (for the SDK route)."""
        tools, next_cursor = self._slice(self._snapshot(principal), cursor)
        return _page([tool_wire(t, raw=False) for t in tools], next_cursor)

    def page_json(self, cursor: str | None, principal: Principal | None = None) -> dict[str, Any]:
        """The page with `tools` as one pre-serialised JSON fragment (for the lean route)."""
        if self._holder.snapshot.revision != self._revision:
            self._json_pages, self._revision = {}, self._holder.snapshot.revision
        snapshot = self._snapshot(principal)
        key = cursor if principal is None else (principal.tenant, principal.scopes, cursor)
        page = self._json_pages.get(key)
        if page is None:
            tools, next_cursor = self._slice(snapshot, cursor)
            wire = orjson.dumps([tool_wire(t, raw=True) for t in tools])
            page = self._json_pages[key] = _page(orjson.Fragment(wire), next_cursor)
        return page

    def _slice(
        self, snapshot: CatalogSnapshot, cursor: str | None
    ) -> tuple[tuple[CatalogTool, ...], str | None]:
        try:
            return snapshot.page(cursor, self._page_size)
        except InvalidCursorError as exc:
            raise ToolCallError(INVALID_PARAMS, str(exc)) from exc


def _page(tools: Any, next_cursor: str | None) -> dict[str, Any]:
    page: dict[str, Any] = {"tools": tools}
    if next_cursor:
        page["nextCursor"] = next_cursor
    return page
