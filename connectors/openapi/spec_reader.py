"""What every part of the converter shares: the spec being read, the operation at hand, the
inputSchema under construction, and a few questions about raw schemas and media types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from connectors.openapi.loader import LoadedSpec, Located
from connectors.openapi.media_types import base_media_type
from connectors.openapi.model import ValueKind
from connectors.openapi.schema import SchemaConverter

_MAX_WARNINGS = 100


@dataclass(slots=True)
class Warnings:
    """Deduplicated, capped: one odd construct repeated 1,000 times is one warning."""

    items: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _overflow: int = 0

    def add(self, message: str) -> None:
        if message in self._seen:
            return
        self._seen.add(message)
        if len(self.items) < _MAX_WARNINGS:
            self.items.append(message)
        else:
            self._overflow += 1

    def result(self) -> list[str]:
        tail = [f"... and {self._overflow} more warnings"] if self._overflow else []
        return [*self.items, *tail]


class SpecReader:
    """A loaded spec with the resolver, schema converter and warnings all readers share."""

    def __init__(self, spec: LoadedSpec) -> None:
        self.spec = spec
        self.root = spec.root
        self.resolver = spec.resolver
        self.warnings = Warnings()
        self.schemas = SchemaConverter(spec.resolver, self.warnings.add)

    def text(self, parent: Located | None, key: str) -> str | None:
        """A string field, following a `$ref` (DigitalOcean refs its descriptions) and trimming."""
        loc = parent.get(key) if parent is not None else None
        if loc is None:
            return None
        value = self.resolver.deref(loc).value
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # an unquoted YAML `version: 1.0`
        if not isinstance(value, str):
            return None
        return value.strip() or None


@dataclass(frozen=True, slots=True)
class PathOperation:
    """One path operation, with its path item (both with `$ref`s followed)."""

    path: str
    method: str  # upper case
    item: Located
    op: Located

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def request_path(self) -> str:
        # Some specs tell apart operations on one path with a fragment (`/pets#v2`); it is never sent.
        return self.path.partition("#")[0]


@dataclass(slots=True)
class Inputs:
    """The tool's inputSchema under construction."""

    properties: dict[str, Any] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    deps: set[str] = field(default_factory=set)

    def add(self, arg: str, schema: Any, deps: frozenset[str], required: bool) -> None:
        self.properties[arg] = schema
        self.deps |= deps
        if required:
            self.required.append(arg)

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "object",
            "properties": self.properties,
            "required": self.required,
            "additionalProperties": False,
        }
        if defs:
            out["$defs"] = defs
        return out


def is_json(media_type: str) -> bool:
    """Does a response or body of this media type carry the JSON its schema describes?"""
    base = base_media_type(media_type)
    return base in ("application/json", "text/json") or base.endswith("+json")


def with_description(schema: Any, description: str | None) -> Any:
    if not description:
        return schema
    base = schema if isinstance(schema, dict) else {}
    return {**base, "description": description}


def value_kind(raw: Any) -> ValueKind:
    """primitive/array/object from a raw (reference-followed) schema."""
    if not isinstance(raw, dict):
        return "primitive"
    kind = raw.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind in ("array", "object"):
        return cast(ValueKind, kind)
    if kind is None and ("properties" in raw or "additionalProperties" in raw):
        return "object"
    return "array" if kind is None and "items" in raw else "primitive"
