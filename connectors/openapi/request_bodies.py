"""Request bodies, compiled once per operation from its BodySpec into a builder of call bodies.

Binary values (multipart parts with `FieldEncoding.binary`, whole bodies with `BodySpec.binary`)
arrive as strings: base64 (as the converter's schemas ask for), optionally prefixed `base64:`, or a
`data:...;base64,` URL. A string that is not valid base64 is sent as its UTF-8 text, so plain-text
files work too. For other non-text media types only an explicit `base64:` prefix is decoded.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from connectors.openapi.media_types import base_media_type, is_text, treated_as_json
from connectors.openapi.model import BodySpec, FieldEncoding
from connectors.openapi.serialize import (
    ArgumentError,
    delimited_text,
    json_bytes,
    json_text,
    scalar_text,
    serialize_form_field,
)

BASE64_PREFIX = "base64:"
_FORM = "application/x-www-form-urlencoded"
_MISSING: Any = object()

Body = bytes | Callable[[], aiohttp.FormData] | None
BodyBuilder = Callable[[Mapping[str, Any]], tuple[Body, str | None]]  # args -> (body, Content-Type)
_Part = tuple[str, str | bytes, str | None, str | None]  # name, data, content type, filename


def compile_body(spec: BodySpec) -> BodyBuilder:
    media = base_media_type(spec.media_type)
    if treated_as_json(media):
        content_type = spec.media_type if "*" not in media else "application/json"
        return lambda args: _json_body(spec, content_type, args)
    if media == _FORM:
        return lambda args: _form_body(spec, args)
    if media.startswith("multipart/"):
        return lambda args: _multipart_body(spec, args)
    content_type = spec.media_type if "*" not in media else "application/octet-stream"
    prefixed_only = not spec.binary and not is_text(media)
    return lambda args: _raw_body(spec, content_type, prefixed_only, args)


def _body_value(spec: BodySpec, args: Mapping[str, Any]) -> Any:
    """The body: the single `arg`, or the object of the flattened `fields`; _MISSING if none given."""
    if spec.arg is not None:
        return args.get(spec.arg, _MISSING)
    obj = {prop: args[arg] for arg, prop in spec.fields.items() if arg in args}
    return obj if obj else _MISSING


def _json_body(spec: BodySpec, content_type: str, args: Mapping[str, Any]) -> tuple[Body, str | None]:
    value = _body_value(spec, args)
    if value is _MISSING:
        return (b"{}", content_type) if spec.required else (None, None)
    return json_bytes(value), content_type


def _form_body(spec: BodySpec, args: Mapping[str, Any]) -> tuple[Body, str | None]:
    value = _body_value(spec, args)
    if value is _MISSING:
        return (b"", _FORM) if spec.required else (None, None)
    if isinstance(value, str):
        return value.encode(), _FORM
    if not isinstance(value, dict):
        raise ArgumentError("a form body must be an object")
    items = [
        item for prop, v in value.items() for item in serialize_form_field(prop, v, spec.encoding.get(prop))
    ]
    return "&".join(items).encode(), _FORM


def _multipart_body(spec: BodySpec, args: Mapping[str, Any]) -> tuple[Body, str | None]:
    value = _body_value(spec, args)
    if value is _MISSING:
        if not spec.required:
            return None, None
        value = {}  # an empty multipart body: just the closing boundary
    if not isinstance(value, dict):
        raise ArgumentError("a multipart body must be an object")
    parts = [part for prop, v in value.items() for part in _multipart_parts(prop, v, spec.encoding.get(prop))]

    def build() -> aiohttp.FormData:
        # A FormData can be sent once; redirects and token retries call this again.
        form = aiohttp.FormData(default_to_multipart=True)
        for name, data, content_type, filename in parts:
            form.add_field(name, data, content_type=content_type, filename=filename)
        return form

    return build, None  # aiohttp sets multipart/form-data with its boundary


def _multipart_parts(prop: str, value: Any, encoding: FieldEncoding | None) -> list[_Part]:
    """One property as parts. Objects default to one JSON part (OpenAPI's default for objects);
    arrays repeat the part when exploded (the default) and are delimited text otherwise."""
    enc = encoding or FieldEncoding()
    if value is None:
        return []
    if enc.binary:
        items = value if isinstance(value, list | tuple) else [value]
        content_type = enc.content_type or "application/octet-stream"
        return [(prop, _binary(item, prop), content_type, prop) for item in items]
    if enc.content_type is not None and treated_as_json(base_media_type(enc.content_type)):
        return [(prop, json_text(value), enc.content_type, None)]
    if isinstance(value, dict):
        if enc.style == "deepObject":
            return [(f"{prop}[{k}]", scalar_text(v), None, None) for k, v in value.items()]
        if enc.explode and enc.style == "form":
            return [(prop, json_text(value), "application/json", None)]
        return [(prop, delimited_text(value, enc.style), enc.content_type, None)]
    if isinstance(value, list | tuple):
        if enc.explode:
            return [(prop, _part_text(v), enc.content_type, None) for v in value]
        return [(prop, delimited_text(value, enc.style), enc.content_type, None)]
    return [(prop, scalar_text(value), enc.content_type, None)]


def _part_text(value: Any) -> str:
    return json_text(value) if isinstance(value, dict | list) else scalar_text(value)


def _raw_body(
    spec: BodySpec, content_type: str, prefixed_only: bool, args: Mapping[str, Any]
) -> tuple[Body, str | None]:
    value = _body_value(spec, args)
    if value is _MISSING:
        return (b"", content_type) if spec.required else (None, None)
    if spec.binary:
        return _binary(value, "body"), content_type
    if isinstance(value, str):
        if prefixed_only and value.startswith(BASE64_PREFIX):
            return _binary(value, "body"), content_type
        return value.encode(), content_type
    return json_bytes(value), content_type


def _binary(value: Any, what: str) -> bytes:
    """Bytes from a binary argument (see the module docstring for the accepted forms)."""
    if not isinstance(value, str):
        return json_text(value).encode()
    explicit = value.startswith(BASE64_PREFIX)
    encoded = value[len(BASE64_PREFIX) :] if explicit else value
    if value.startswith("data:"):
        head, comma, rest = value.partition(",")
        explicit = bool(comma) and head.endswith(";base64")
        encoded = rest if explicit else value
    try:
        # Line breaks are common in base64 from tools; spaces are not, and mark plain text.
        return base64.b64decode(encoded.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        if explicit:
            raise ArgumentError(f"{what}: invalid base64 content") from exc
        return value.encode()  # not base64 at all: the text itself is the content
