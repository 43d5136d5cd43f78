"""Request bodies: 3.x `requestBody` or 2.0 `body`/`formData` parameters, as tool arguments
(the body's properties when it is a plain object, else one `body` argument) and a BodySpec."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.openapi.loader import Located
from connectors.openapi.media_types import base_media_type
from connectors.openapi.model import BodySpec, FieldEncoding
from connectors.openapi.naming import sanitize_arg, unique_arg
from connectors.openapi.params import collection_style, param_fields
from connectors.openapi.schema import Converted
from connectors.openapi.spec_reader import (
    Inputs,
    PathOperation,
    SpecReader,
    is_json,
    value_kind,
    with_description,
)

_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
_BINARY_NOTE = "File content, base64-encoded."
_BINARY_ITEMS_NOTE = "Each item is a file's content, base64-encoded."


@dataclass(frozen=True, slots=True)
class _BodySource:
    """A request body as read from the spec, before it becomes arguments."""

    media_type: str
    required: bool
    schema: Located | None
    description: str | None
    encoding: Located | None  # 3.x `encoding` map (or one synthesised from 2.0 formData)


def body_spec(
    reader: SpecReader, op: PathOperation, raw_params: list[Located], inputs: Inputs
) -> BodySpec | None:
    """The operation's request body, its arguments added to `inputs`; None when it has none."""
    source = _swagger_body(reader, op, raw_params) if reader.spec.is_swagger2 else _openapi_body(reader, op)
    if source is None:
        return None
    empty = Converted({}, frozenset())
    converted = reader.schemas.convert(source.schema, "input") if source.schema else empty
    encoding = _encoding(reader, source)
    fields = _flatten(reader, source, converted, inputs, encoding)
    if fields is not None:
        return BodySpec(source.media_type, source.required, None, fields, encoding)
    return _whole_body(reader, source, converted, inputs, encoding)


# --- reading the body from the spec ----------------------------------------------------------


def _openapi_body(reader: SpecReader, op: PathOperation) -> _BodySource | None:
    loc = op.op.get("requestBody")
    if loc is None:
        return None
    body = reader.resolver.deref(loc)
    content = body.get("content")
    media_types = list(reader.resolver.deref(content).items()) if content else []
    if not media_types:
        return None
    media_type, media = min(media_types, key=lambda pair: _media_rank(pair[0]))
    media = reader.resolver.deref(media)
    return _BodySource(
        media_type=media_type,
        required=body.value.get("required") is True,
        schema=media.get("schema"),
        description=reader.text(body, "description"),
        encoding=media.get("encoding"),
    )


def _swagger_body(reader: SpecReader, op: PathOperation, params: list[Located]) -> _BodySource | None:
    consumes = _consumes(reader, op)
    for param in params:
        if param.value["in"] == "body":
            media_type = next((c for c in consumes if is_json(c)), consumes[0] if consumes else None)
            return _BodySource(
                media_type=media_type or "application/json",
                required=param.value.get("required") is True,
                schema=param.get("schema"),
                description=reader.text(param, "description"),
                encoding=None,
            )
    form = [p for p in params if p.value["in"] == "formData"]
    return _form_body(reader, form, consumes, op) if form else None


def _form_body(
    reader: SpecReader, params: list[Located], consumes: list[str], op: PathOperation
) -> _BodySource:
    """Swagger 2.0 formData parameters as one object body with a 3.x-style `encoding`."""
    properties: dict[str, Any] = {}
    encoding: dict[str, Any] = {}
    required = [p.value["name"] for p in params if p.value.get("required") is True]
    for param in params:
        name = param.value["name"]
        properties[name] = with_description(param_fields(param.value), reader.text(param, "description"))
        style, explode = collection_style(reader, param.value, "formData", value_kind(param.value))
        encoding[name] = {"style": style, "explode": explode}
    multipart = any(p.value.get("type") == "file" for p in params) or any(
        base_media_type(c) == _MULTIPART for c in consumes
    )
    schema = {"type": "object", "properties": properties, "required": required}
    return _BodySource(
        media_type=_MULTIPART if multipart else _FORM,
        required=bool(required),
        schema=Located(schema, op.op.uri, op.op.pointer),
        description=None,
        encoding=Located(encoding, op.op.uri, op.op.pointer),
    )


def _consumes(reader: SpecReader, op: PathOperation) -> list[str]:
    value = op.op.value.get("consumes", reader.root.value.get("consumes"))
    return [c for c in value if isinstance(c, str)] if isinstance(value, list) else []


def _media_rank(media_type: str) -> int:
    """JSON first, then form, then multipart, then anything else (stable for equal ranks)."""
    base = base_media_type(media_type)
    if is_json(base):
        return 0
    return {_FORM: 1, _MULTIPART: 2}.get(base, 3)


# --- form and multipart field encodings ------------------------------------------------------


def _encoding(reader: SpecReader, source: _BodySource) -> dict[str, FieldEncoding]:
    """Per-property encoding of a form or multipart body."""
    if base_media_type(source.media_type) not in (_FORM, _MULTIPART) or source.schema is None:
        return {}
    properties = reader.schemas.raw(source.schema).get("properties")
    if properties is None:
        return {}
    properties = reader.resolver.deref(properties)
    declared = reader.resolver.deref(source.encoding) if source.encoding else None
    return {
        name: _field_encoding(reader, reader.schemas.raw(prop), declared.get(name) if declared else None)
        for name, prop in properties.items()
    }


def _field_encoding(reader: SpecReader, prop: Located, declared: Located | None) -> FieldEncoding:
    spec = reader.resolver.deref(declared).value if declared else {}
    spec = spec if isinstance(spec, dict) else {}
    raw, kind = prop.value, value_kind(prop.value)
    items_loc = prop.get("items") if kind == "array" else None
    items = reader.schemas.raw(items_loc).value if items_loc else None
    style = _string(spec.get("style")) or "form"
    explode = spec.get("explode")
    return FieldEncoding(
        content_type=_string(spec.get("contentType")),
        style=style,
        explode=explode if isinstance(explode, bool) else style == "form",
        kind=kind,
        binary=_is_binary(raw) or (kind == "array" and _is_binary(items)),
    )


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _is_binary(raw: Any) -> bool:
    if not isinstance(raw, dict):
        return False
    return raw.get("type") == "file" or raw.get("format") in ("binary", "byte")


# --- arguments -------------------------------------------------------------------------------


def _flatten(
    reader: SpecReader,
    source: _BodySource,
    converted: Converted,
    inputs: Inputs,
    encoding: dict[str, FieldEncoding],
) -> dict[str, str] | None:
    """Body properties as top-level arguments (arg -> property), or None to keep one `body` arg."""
    body = reader.schemas.inline(converted, "input")
    schema = body.schema
    if not _is_structured(source.media_type) or not _flattenable(schema):
        return None
    args = {prop: sanitize_arg(prop) for prop in schema["properties"]}
    if len(set(args.values())) < len(args) or not inputs.properties.keys().isdisjoint(args.values()):
        return None
    required = set(schema.get("required", ())) if source.required else set()
    for prop, arg in args.items():
        prop_schema = _binary_schema(schema["properties"][prop], encoding.get(prop))
        inputs.add(arg, prop_schema, body.deps, prop in required)
    return {arg: prop for prop, arg in args.items()}


def _whole_body(
    reader: SpecReader,
    source: _BodySource,
    converted: Converted,
    inputs: Inputs,
    encoding: dict[str, FieldEncoding],
) -> BodySpec:
    arg = unique_arg("body", set(inputs.properties), ["requestBody"])
    binary = _raw_binary_body(reader, source)
    schema, deps = with_description(converted.schema, source.description), converted.deps
    if binary:
        schema = {**schema, "type": "string", "contentEncoding": "base64"}
        schema["description"] = _join(source.description, _BINARY_NOTE)
    elif not _is_structured(source.media_type) and not _is_text_schema(reader, source):
        # e.g. an XML body: its object schema cannot be sent as such, the caller writes the text
        note = f"The request body as {source.media_type.split(';')[0].strip()} text."
        schema, deps = {"type": "string", "description": _join(source.description, note)}, frozenset()
    inputs.add(arg, schema, deps, source.required)
    return BodySpec(source.media_type, source.required, arg, {}, encoding, binary)


def _is_text_schema(reader: SpecReader, source: _BodySource) -> bool:
    raw = reader.schemas.raw(source.schema).value if source.schema else None
    return isinstance(raw, dict) and raw.get("type") == "string"


def _raw_binary_body(reader: SpecReader, source: _BodySource) -> bool:
    """Is the whole body raw bytes (an upload), which the caller passes as base64?"""
    base = base_media_type(source.media_type)
    if _is_structured(base) or base.startswith("text/") or base.endswith("xml"):
        return False
    return source.schema is None or _is_binary(reader.schemas.raw(source.schema).value)


def _is_structured(media_type: str) -> bool:
    """Media types the executor builds from arguments (JSON, form, multipart)."""
    base = base_media_type(media_type)
    return is_json(base) or base in (_FORM, _MULTIPART)


def _flattenable(schema: Any) -> bool:
    """A plain object with properties (no top-level composition, no free-form extra keys)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return False
    if not schema["properties"] or any(k in schema for k in ("allOf", "oneOf", "anyOf", "not", "$ref")):
        return False
    extra = schema.get("additionalProperties", False)  # a free-form map cannot become fixed arguments
    return schema.get("type", "object") == "object" and extra is False


def _binary_schema(schema: Any, encoding: FieldEncoding | None) -> Any:
    """A file part's argument: base64 text, and the description says so."""
    if encoding is None or not encoding.binary or not isinstance(schema, dict):
        return schema
    if encoding.kind == "array":
        return {**schema, "description": _join(schema.get("description"), _BINARY_ITEMS_NOTE)}
    note = _join(schema.get("description"), _BINARY_NOTE)
    return {**schema, "type": "string", "contentEncoding": "base64", "description": note}


def _join(description: Any, note: str) -> str:
    return f"{description.rstrip()} {note}" if isinstance(description, str) and description.strip() else note
