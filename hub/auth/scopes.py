"""Which tools a principal may see and call. Pure functions over the catalog snapshot.

A tool needs every scope its operation's oauth2/openIdConnect security lists; an operation with
none falls back to `<api>:read` (readOnlyHint tools) or `<api>:write`. Tenants are a wall: a
tool of another tenant is treated exactly like a tool that does not exist.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from catalog.snapshot import CatalogSnapshot, CatalogTool
from hub.auth.principal import Principal


class Verdict(enum.Enum):
    ALLOWED = "allowed"
    UNKNOWN = "unknown"  # no such tool, or another tenant's: indistinguishable on purpose
    INSUFFICIENT_SCOPE = "insufficient_scope"


def required_scopes(tool: CatalogTool) -> frozenset[str]:
    if tool.scopes:
        return frozenset(tool.scopes)
    safe = tool.annotations.get("readOnlyHint") is True
    return frozenset({f"{tool.api.name}:{'read' if safe else 'write'}"})


def visible(principal: Principal, tool: CatalogTool) -> bool:
    return tool.tenant == principal.tenant


def can_call(principal: Principal, tool: CatalogTool) -> bool:
    return visible(principal, tool) and required_scopes(tool) <= principal.scopes


def check_call(principal: Principal, tool: CatalogTool | None) -> Verdict:
    if tool is None or not visible(principal, tool):
        return Verdict.UNKNOWN
    if not required_scopes(tool) <= principal.scopes:
        return Verdict.INSUFFICIENT_SCOPE
    return Verdict.ALLOWED


def callable_tools(principal: Principal, tools: Sequence[CatalogTool]) -> list[CatalogTool]:
    return [t for t in tools if can_call(principal, t)]


ViewKey = tuple[int, str, frozenset[str]]


class ScopedViews:
    """Per-(revision, tenant, scope set) snapshots holding only the tools a principal may call.

    Principals with the same tenant and scopes share one view, so tools/list pages (cursors
    included) work on the view unchanged and can be cached per view. Bounded: views of older
    revisions are dropped when the snapshot moves, and at most `max_views` are kept.
    """

    def __init__(self, max_views: int = 256) -> None:
        self._max_views = max_views
        self._views: dict[ViewKey, CatalogSnapshot] = {}

    @staticmethod
    def key(snapshot: CatalogSnapshot, principal: Principal) -> ViewKey:
        return (snapshot.revision, principal.tenant, principal.scopes)

    def view(self, snapshot: CatalogSnapshot, principal: Principal) -> CatalogSnapshot:
        key = self.key(snapshot, principal)
        found = self._views.get(key)
        if found is None:
            if any(k[0] != snapshot.revision for k in self._views) or len(self._views) >= self._max_views:
                self._views = {k: v for k, v in self._views.items() if k[0] == snapshot.revision}
                while len(self._views) >= self._max_views:
                    del self._views[next(iter(self._views))]
            tools = callable_tools(principal, snapshot.tools)
            apis = [a for a in snapshot.apis if a.tenant == principal.tenant]
            found = self._views[key] = CatalogSnapshot(snapshot.revision, tools, apis)
        return found
