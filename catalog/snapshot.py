"""The hub's immutable in-memory view of the catalog: final tool names, a fixed order, pages.

A snapshot is built from one `load_catalog()` read and never changes; the hub swaps the whole
object when the catalog revision moves. Schemas and plans stay JSON text until first used:
most tools of a big API are never listed or called, and parsed schemas cost ~10x their text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from catalog.records import TOOL_NAME_RE, CatalogApi, StoredTool, ToolOverrideInfo
from connectors.openapi.model import OperationPlan, SecurityScheme

MAX_TOOL_NAME = 64
_CURSOR_PREFIX = "1:"  # format version, so the cursor can change without misreading old ones
_MAX_CURSOR_LENGTH = 256
_INVALID_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]")
_UNPARSED: Any = object()


class InvalidCursorError(ValueError):
    """A pagination cursor this hub did not issue."""


@dataclass(frozen=True, slots=True, eq=False)
class ApiInfo:
    """What the tools of one API share: where calls go and how they authenticate."""

    tenant: str
    name: str
    version: int
    title: str
    source: str
    base_url: str | None
    security_schemes: Mapping[str, SecurityScheme]
    credentials: dict[str, Any] | None = field(default=None, repr=False)  # decrypted: never log


@dataclass(frozen=True, slots=True, eq=False)
class CatalogTool:
    """One tool under its final name. `input_schema`, `output_schema` and `plan` parse on first use.

    The parsed schema dicts are shared by every caller: treat them as read-only.
    """

    name: str
    api: ApiInfo
    key: str
    title: str | None
    description: str
    annotations: dict[str, Any]
    scopes: tuple[str, ...]
    tags: tuple[str, ...]
    deprecated: bool
    raw_input_schema: str = field(repr=False)
    raw_output_schema: str | None = field(repr=False)
    raw_plan: str = field(repr=False)
    _input_schema: Any = field(default=_UNPARSED, init=False, repr=False)
    _output_schema: Any = field(default=_UNPARSED, init=False, repr=False)
    _plan: Any = field(default=_UNPARSED, init=False, repr=False)

    @property
    def tenant(self) -> str:
        return self.api.tenant

    @property
    def input_schema(self) -> dict[str, Any]:
        if self._input_schema is _UNPARSED:
            object.__setattr__(self, "_input_schema", orjson.loads(self.raw_input_schema))
        value: dict[str, Any] = self._input_schema
        return value

    @property
    def output_schema(self) -> dict[str, Any] | None:
        if self._output_schema is _UNPARSED:
            raw = self.raw_output_schema
            object.__setattr__(self, "_output_schema", orjson.loads(raw) if raw is not None else None)
        value: dict[str, Any] | None = self._output_schema
        return value

    @property
    def plan(self) -> OperationPlan:
        if self._plan is _UNPARSED:
            object.__setattr__(self, "_plan", OperationPlan.from_dict(orjson.loads(self.raw_plan)))
        value: OperationPlan = self._plan
        return value


class CatalogSnapshot:
    """All enabled tools, sorted by final name, with lookup and cursor pagination."""

    __slots__ = ("_by_name", "_names", "apis", "revision", "tools")

    def __init__(self, revision: int, tools: Sequence[CatalogTool], apis: Sequence[ApiInfo]) -> None:
        ordered = tuple(sorted(tools, key=lambda t: t.name))
        self.revision = revision
        self.tools: tuple[CatalogTool, ...] = ordered
        self.apis: tuple[ApiInfo, ...] = tuple(apis)
        self._names = tuple(t.name for t in ordered)
        self._by_name = {t.name: t for t in ordered}
        if len(self._by_name) != len(ordered):
            raise ValueError("tool names in a snapshot must be unique")

    def get(self, name: str) -> CatalogTool | None:
        return self._by_name.get(name)

    def page(self, cursor: str | None, size: int) -> tuple[tuple[CatalogTool, ...], str | None]:
        """Up to `size` tools after `cursor` (None: from the start), and the cursor of the next page."""
        if size < 1:
            raise ValueError("page size must be at least 1")
        start = 0 if cursor is None else bisect_right(self._names, decode_cursor(cursor))
        tools = self.tools[start : start + size]
        more = start + size < len(self.tools)
        return tools, (encode_cursor(tools[-1].name) if more and tools else None)

    def __len__(self) -> int:
        return len(self.tools)

    def __repr__(self) -> str:
        return f"CatalogSnapshot(revision={self.revision}, tools={len(self.tools)}, apis={len(self.apis)})"


def encode_cursor(last_name: str) -> str:
    """Opaque to clients: the name of the last tool on the previous page, base64url without padding."""
    return base64.urlsafe_b64encode((_CURSOR_PREFIX + last_name).encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    if not isinstance(cursor, str) or not cursor or len(cursor) > _MAX_CURSOR_LENGTH:
        raise InvalidCursorError("Invalid cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursorError("Invalid cursor") from None
    if not text.startswith(_CURSOR_PREFIX) or not TOOL_NAME_RE.fullmatch(text[len(_CURSOR_PREFIX) :]):
        raise InvalidCursorError("Invalid cursor")
    return text[len(_CURSOR_PREFIX) :]


# -- building ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Candidate:
    api: ApiInfo
    stored: StoredTool
    override: ToolOverrideInfo | None
    wanted: str  # the name the tool asks for: the override's, else "<api>_<tool>"
    explicit: bool  # `wanted` comes from an override
    identity: str  # tenant/api/key: unique, stable across re-imports


def build_snapshot(apis: Sequence[CatalogApi], revision: int) -> CatalogSnapshot:
    infos = [_api_info(api) for api in apis]
    candidates = [c for api, info in zip(apis, infos, strict=True) for c in _candidates(api, info)]
    names = _assign_names(candidates)
    tools = [_tool(c, names[c.identity]) for c in candidates]
    return CatalogSnapshot(revision, tools, sorted(infos, key=lambda i: (i.tenant, i.name)))


def _api_info(api: CatalogApi) -> ApiInfo:
    return ApiInfo(
        tenant=api.tenant,
        name=api.name,
        version=api.version,
        title=api.title,
        source=api.source,
        base_url=api.base_url,
        security_schemes=api.security_schemes,
        credentials=api.credentials,
    )


def _candidates(api: CatalogApi, info: ApiInfo) -> Iterable[_Candidate]:
    for stored in api.tools:
        override = api.overrides.get(stored.key)
        if override is not None and override.enabled is False:
            continue  # disabled by the operator: not served at all
        custom = override.name if override is not None else None
        # The store validates override names; sanitising again keeps a hand-edited row harmless.
        wanted = safe_name(custom) if custom else generated_name(api.name, stored.name)
        explicit = bool(custom)
        yield _Candidate(info, stored, override, wanted, explicit, f"{api.tenant}/{api.name}/{stored.key}")


def generated_name(api: str, tool: str) -> str:
    """`<api>_<tool>`, made MCP-safe and at most 64 characters long."""
    return safe_name(f"{api}_{tool}")


def safe_name(name: str) -> str:
    """Only `[A-Za-z0-9_.-]`, at most 64 characters; a hash of the whole keeps cut names distinct."""
    name = _INVALID_NAME_CHARS.sub("_", name)
    if len(name) <= MAX_TOOL_NAME:
        return name
    return _with_suffix(name, "_" + _digest(name, 8))


def _assign_names(candidates: Sequence[_Candidate]) -> dict[str, str]:
    """Final name per candidate identity, unique across the hub and independent of input order.

    Explicit (override) names claim first, then generated ones, each group by tenant, API and
    tool key; a tool whose name is taken gets a suffix derived from its own identity, so it does
    not change when unrelated tools come and go.
    """
    ordered = sorted(candidates, key=lambda c: (not c.explicit, c.api.tenant, c.api.name, c.stored.key))
    names: dict[str, str] = {}
    taken: set[str] = set()
    losers = []
    for candidate in ordered:
        if candidate.wanted in taken:
            losers.append(candidate)
        else:
            names[candidate.identity] = candidate.wanted
            taken.add(candidate.wanted)
    # Natural names all placed first, so a suffixed name never takes one that a tool asked for.
    for candidate in losers:
        name = _suffixed_name(candidate, taken)
        names[candidate.identity] = name
        taken.add(name)
    return names


def _suffixed_name(candidate: _Candidate, taken: set[str]) -> str:
    attempt = 0
    while True:
        salt = candidate.identity if attempt == 0 else f"{candidate.identity}#{attempt}"
        name = _with_suffix(candidate.wanted, "_" + _digest(salt, 6))
        if name not in taken:
            return name
        attempt += 1


def _with_suffix(name: str, suffix: str) -> str:
    return name[: MAX_TOOL_NAME - len(suffix)] + suffix


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _tool(candidate: _Candidate, name: str) -> CatalogTool:
    stored, override = candidate.stored, candidate.override
    custom_description = override.description if override is not None else None
    return CatalogTool(
        name=name,
        api=candidate.api,
        key=stored.key,
        title=stored.title,
        description=custom_description or stored.description,
        annotations=stored.annotations,
        scopes=stored.scopes,
        tags=stored.tags,
        deprecated=stored.deprecated,
        raw_input_schema=stored.input_schema,
        raw_output_schema=stored.output_schema,
        raw_plan=stored.plan,
    )
