"""Path, query, header and cookie parameters: tool arguments, and the ParamSpecs that send them."""

from __future__ import annotations

import re
from typing import Any

from connectors.openapi.loader import Located
from connectors.openapi.model import ParamLocation, ParamSpec, ValueKind
from connectors.openapi.naming import sanitize_arg, unique_arg
from connectors.openapi.schema import Converted
from connectors.openapi.spec_reader import Inputs, PathOperation, SpecReader, value_kind, with_description

_LOCATIONS: tuple[ParamLocation, ...] = ("path", "query", "header", "cookie")
_DEFAULT_STYLE = {"path": "simple", "query": "form", "header": "simple", "cookie": "form"}
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})  # OAS: described elsewhere
# Swagger 2.0 collectionFormat -> (style, or None for the location's default; explode)
_COLLECTION_FORMATS = {
    "csv": (None, False),
    "multi": ("form", True),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
}
# Fields of a 2.0 non-body parameter (or a schema-less 3.x one) that describe its value.
_PARAM_SCHEMA_KEYS = (
    "type", "format", "items", "enum", "default", "maximum", "minimum", "exclusiveMaximum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
    "multipleOf", "x-nullable", "example",
)  # fmt: skip


def raw_params(reader: SpecReader, op: PathOperation) -> list[Located]:
    """Path-item then operation parameters, `$ref`s followed; the operation's win.

    Includes 2.0 `body` and `formData` parameters, which the body reader takes from here."""
    found: dict[tuple[str, str], Located] = {}
    for owner in (op.item, op.op):
        listed = owner.get("parameters")
        for raw in reader.resolver.deref(listed).elements() if listed else ():
            param = reader.resolver.deref(raw)
            if _usable(reader, param, op):
                found[(param.value["in"], param.value["name"])] = param
    return list(found.values())


def param_specs(
    reader: SpecReader, op: PathOperation, raw: list[Located], inputs: Inputs
) -> tuple[ParamSpec, ...]:
    """The non-body parameters as ParamSpecs, each adding its argument to `inputs`."""
    params = [p for p in raw if p.value["in"] in _LOCATIONS and not _ignored(p.value)]
    params += _undeclared_path_params(reader, op, params)
    params.sort(key=lambda p: _LOCATIONS.index(p.value["in"]))  # path params get the plain names
    return tuple(_param_spec(reader, param, inputs) for param in params)


def param_fields(param: dict[str, Any]) -> dict[str, Any]:
    """The value schema of a 2.0-style parameter (its type/format/items/... fields)."""
    schema = {key: param[key] for key in _PARAM_SCHEMA_KEYS if key in param}
    if "x-example" in param and "example" not in schema:
        schema["example"] = param["x-example"]
    return schema


def collection_style(
    reader: SpecReader, value: dict[str, Any], location: str, kind: ValueKind
) -> tuple[str, bool]:
    """(style, explode) of a Swagger 2.0 parameter, from its `collectionFormat`."""
    default = "form" if location in ("query", "cookie", "formData") else "simple"
    if kind != "array":
        return default, default == "form"
    fmt = value.get("collectionFormat", "csv")
    if fmt not in _COLLECTION_FORMATS:
        reader.warnings.add(f"parameter {value['name']!r}: collectionFormat {fmt!r} sent as csv")
        fmt = "csv"
    style, explode = _COLLECTION_FORMATS[fmt]
    return style or default, explode


def _usable(reader: SpecReader, param: Located, op: PathOperation) -> bool:
    value = param.value
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        reader.warnings.add(f"{op.key}: skipped a parameter without a name")
        return False
    location = value.get("in")
    if location in _LOCATIONS or (reader.spec.is_swagger2 and location in ("body", "formData")):
        return True
    reader.warnings.add(f"{op.key}: skipped parameter {value['name']!r} (unsupported 'in': {location!r})")
    return False


def _ignored(param: dict[str, Any]) -> bool:
    return param["in"] == "header" and param["name"].lower() in _IGNORED_HEADERS


def _undeclared_path_params(reader: SpecReader, op: PathOperation, params: list[Located]) -> list[Located]:
    """`{name}`s of the path template that no parameter declares (a spec bug, but common)."""
    declared = {p.value["name"] for p in params if p.value["in"] == "path"}
    found = []
    for name in dict.fromkeys(re.findall(r"\{([^{}]+)\}", op.request_path)):
        if name not in declared:
            reader.warnings.add(f"{op.key}: path parameter {name!r} is not declared; taken as a string")
            synthetic = {"name": name, "in": "path", "type": "string"}
            found.append(Located(synthetic, op.op.uri, op.op.pointer))
    return found


def _param_spec(reader: SpecReader, param: Located, inputs: Inputs) -> ParamSpec:
    value = param.value
    name, location = value["name"], value["in"]
    arg = unique_arg(sanitize_arg(name), set(inputs.properties), [sanitize_arg(f"{location}_{name}")])
    schema_loc, content_type = _value_schema(reader, param)
    converted = reader.schemas.convert(schema_loc, "input")
    required = location == "path" or value.get("required") is True
    inputs.add(arg, _argument_schema(reader, param, converted), converted.deps, required)
    kind = value_kind(reader.schemas.raw(schema_loc).value)
    style, explode = _style(reader, value, location, kind)
    return ParamSpec(
        name=name,
        location=location,
        arg=arg,
        required=required,
        style=style,
        explode=explode,
        allow_reserved=value.get("allowReserved") is True,
        kind=kind,
        content_type=content_type,
    )


def _value_schema(reader: SpecReader, param: Located) -> tuple[Located, str | None]:
    """Where the parameter's value schema is, and the media type of a `content` parameter."""
    value = param.value
    if not reader.spec.is_swagger2 and "schema" in value:
        return param.child("schema"), None
    if not reader.spec.is_swagger2 and "content" in value:
        for media_type, media in reader.resolver.deref(param.child("content")).items():
            media = reader.resolver.deref(media)
            return media.get("schema") or Located({}, media.uri, media.pointer), media_type
    return Located(param_fields(value), param.uri, param.pointer), None


def _argument_schema(reader: SpecReader, param: Located, converted: Converted) -> Any:
    """The argument's inputSchema property: the value schema plus the parameter's own notes."""
    value = param.value
    schema = with_description(converted.schema, reader.text(param, "description"))
    schema = schema if isinstance(schema, dict) else {}
    extra: dict[str, Any] = {"deprecated": True} if value.get("deprecated") is True else {}
    if "example" in value and not reader.spec.is_swagger2 and "examples" not in schema:
        extra["examples"] = [value["example"]]
    return {**schema, **extra} if extra else schema


def _style(reader: SpecReader, value: dict[str, Any], location: str, kind: ValueKind) -> tuple[str, bool]:
    if reader.spec.is_swagger2:
        return collection_style(reader, value, location, kind)
    style = value.get("style")
    style = style if isinstance(style, str) else _DEFAULT_STYLE[location]
    explode = value.get("explode")
    return style, explode if isinstance(explode, bool) else style == "form"
