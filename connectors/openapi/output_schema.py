"""The tool's outputSchema: the JSON object schema of the operation's success response."""

from __future__ import annotations

import re
from typing import Any

from connectors.openapi.loader import Located
from connectors.openapi.spec_reader import PathOperation, SpecReader, is_json


def output_schema(reader: SpecReader, op: PathOperation) -> dict[str, Any] | None:
    """None unless the success response is JSON whose schema is an object (MCP's requirement)."""
    schema_loc = _response_schema(reader, op)
    if schema_loc is None:
        return None
    body = reader.schemas.inline(reader.schemas.convert(schema_loc, "output"), "output")
    schema = body.schema
    if not isinstance(schema, dict) or not _is_object(schema):
        return None
    out = {**schema, "type": "object"}
    defs = reader.schemas.defs(body.deps, "output")
    return {**out, "$defs": defs} if defs else out


def _response_schema(reader: SpecReader, op: PathOperation) -> Located | None:
    responses = op.op.get("responses")
    if responses is None:
        return None
    responses = reader.resolver.deref(responses)
    code = _success_code([k for k, _ in responses.items()])
    if code is None:
        return None
    response = reader.resolver.deref(responses.child(code))
    if reader.spec.is_swagger2:
        produces = op.op.value.get("produces", reader.root.value.get("produces"))
        listed = [str(p) for p in produces] if isinstance(produces, list) else []
        return response.get("schema") if not listed or any(map(is_json, listed)) else None
    content = response.get("content")
    for media_type, media in reader.resolver.deref(content).items() if content else ():
        if is_json(media_type):
            return reader.resolver.deref(media).get("schema")
    return None


def _success_code(codes: list[str]) -> str | None:
    """200, then 201, then other 2xx, then 2XX; `default` only when no 2xx is declared."""
    explicit = [c for c in codes if re.fullmatch(r"2\d\d", c)]
    explicit.sort(key=lambda c: (c != "200", c != "201", c))
    ranged = [c for c in codes if c.upper() == "2XX"]
    ordered = explicit + ranged or [c for c in codes if c == "default"]
    return ordered[0] if ordered else None


def _is_object(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "object" or (kind is None and isinstance(schema.get("properties"), dict))
