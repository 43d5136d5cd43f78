"""JSON text in and out of catalog rows. Pure functions: cheap to test, safe to run in a thread."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from catalog.records import MAX_TOOL_KEY_LENGTH, CatalogError
from connectors.openapi.model import SecurityScheme, ToolDef

# Specs loaded from YAML can carry integer keys (response codes) and dates in examples.
_DUMP_OPTIONS = orjson.OPT_NON_STR_KEYS


def dump_json(value: Any) -> str:
    return orjson.dumps(value, option=_DUMP_OPTIONS).decode("utf-8")


def encode_tools(tools: Sequence[ToolDef]) -> list[dict[str, Any]]:
    """Rows for the `tools` table (without version_id/tenant), in spec order."""
    seen: set[str] = set()
    rows = []
    for position, tool in enumerate(tools):
        _check_tool(tool, seen)
        rows.append(_encode_tool(tool, position))
    return rows


def _check_tool(tool: ToolDef, seen: set[str]) -> None:
    if not tool.key or len(tool.key) > MAX_TOOL_KEY_LENGTH:
        raise CatalogError(f"tool key must be 1-{MAX_TOOL_KEY_LENGTH} characters: {tool.key[:80]!r}")
    if tool.key in seen:
        raise CatalogError(f"two tools share the key {tool.key!r}")
    seen.add(tool.key)
    if not tool.name or len(tool.name) > 64:
        raise CatalogError(f"tool {tool.key!r}: name must be 1-64 characters, got {tool.name!r}")


def _encode_tool(tool: ToolDef, position: int) -> dict[str, Any]:
    try:
        return {
            "key": tool.key,
            "name": tool.name,
            "title": tool.title,
            "description": tool.description or "",
            "input_schema": dump_json(tool.input_schema),
            "output_schema": dump_json(tool.output_schema) if tool.output_schema is not None else None,
            "annotations": dump_json(tool.annotations or {}),
            # orjson writes dataclasses natively, byte-identical to `plan.to_dict()` (a test checks)
            # and ~50x faster than dataclasses.asdict, which dominated a GitHub-sized import.
            "plan": dump_json(tool.plan),
            "scopes": dump_json(list(tool.scopes)),
            "tags": dump_json(list(tool.tags)),
            "deprecated": bool(tool.deprecated),
            "position": position,
        }
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise CatalogError(f"tool {tool.key!r} cannot be stored as JSON: {exc}") from exc


def encode_security_schemes(schemes: Mapping[str, SecurityScheme]) -> str:
    return dump_json({name: dataclasses.asdict(scheme) for name, scheme in schemes.items()})


def decode_security_schemes(text: str) -> dict[str, SecurityScheme]:
    known = {f.name for f in dataclasses.fields(SecurityScheme)}
    schemes = {}
    for name, data in orjson.loads(text).items():
        # Ignore fields a newer hub may have written, so an older one still reads the catalog.
        values = {k: v for k, v in data.items() if k in known}
        values["scopes"] = tuple(values.get("scopes") or ())
        schemes[name] = SecurityScheme(**values)
    return schemes


def decode_str_list(text: str) -> list[str]:
    return [str(item) for item in orjson.loads(text)]


def decode_object(text: str) -> dict[str, Any]:
    value = orjson.loads(text)
    return value if isinstance(value, dict) else {}
