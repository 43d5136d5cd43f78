"""OpenAPI Schema Objects (Swagger 2.0, OpenAPI 3.0/3.1) as JSON Schema 2020-12.

Every `$ref` becomes `{"$ref": "#/$defs/<Name>"}`. A referenced schema is registered under its
name the moment the reference is seen, and converted only when some tool needs it (see `defs`),
so recursion ends by construction and never nests Python calls from one definition into the
next. Converted definitions are cached per (name, mode) and shared between tools: they must not
be mutated after they are built.

Keywords are taken from an allow-list and type-checked, because real specs carry values that
would make `Draft202012Validator.check_schema` fail (ECMA-only regexes, `required: true`,
duplicated `required` entries, type names like "File").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from connectors.openapi.errors import SpecError
from connectors.openapi.loader import Located, Resolver
from connectors.openapi.naming import def_name, unique_name

Mode = Literal["input", "output"]
Warn = Callable[[str], None]

_MAX_REF_CHAIN = 64
_JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
_POST_KEYS = frozenset({"example", "exclusiveMinimum", "exclusiveMaximum", "nullable", "x-nullable"})
_OTHER_MODE: dict[Mode, Mode] = {"input": "output", "output": "input"}


@dataclass(slots=True)
class Converted:
    schema: Any  # a JSON Schema (dict or bool)
    deps: frozenset[str]  # the `$defs` names it references directly


@dataclass(slots=True)
class _Ctx:
    """State of one walk: the document refs are relative to, and what the walk met."""

    uri: str
    mode: Mode
    deps: set[str] = field(default_factory=set)
    sensitive: bool = False  # met a readOnly/writeOnly property: input and output forms differ


@dataclass(slots=True)
class SchemaConverter:
    """Converts schemas of one spec; owns that spec's `$defs` names and converted definitions."""

    resolver: Resolver
    warn: Warn
    _names: dict[tuple[str, str], str] = field(default_factory=dict)  # (uri, pointer) -> name
    _taken: set[str] = field(default_factory=set)
    _targets: dict[str, Located] = field(default_factory=dict)  # name -> raw schema
    _done: dict[tuple[str, Mode], Converted] = field(default_factory=dict)
    _regex_ok: dict[str, bool] = field(default_factory=dict)

    def convert(self, loc: Located, mode: Mode) -> Converted:
        """The schema at `loc`; `mode` drops readOnly (input) or writeOnly (output) properties."""
        ctx = _Ctx(loc.uri, mode)
        try:
            schema = self._schema(loc.value, ctx)
        except SpecError as exc:
            raise exc.locate(loc.uri, loc.pointer) from None
        return Converted(schema, frozenset(ctx.deps))

    def defs(self, deps: Iterable[str], mode: Mode) -> dict[str, Any]:
        """`$defs` for a schema referencing `deps`: everything they reach, nothing else."""
        found: dict[str, Any] = {}
        stack = list(deps)
        while stack:
            name = stack.pop()
            if name not in found:
                converted = self._materialize(name, mode)
                found[name] = converted.schema
                stack.extend(converted.deps)
        return dict(sorted(found.items()))

    def inline(self, converted: Converted, mode: Mode) -> Converted:
        """Follow a top-level pure `{"$ref": "#/$defs/X"}` to X's converted body."""
        for _ in range(_MAX_REF_CHAIN):
            schema = converted.schema
            if not (isinstance(schema, dict) and len(schema) == 1 and "$ref" in schema):
                return converted
            converted = self._materialize(schema["$ref"].removeprefix("#/$defs/"), mode)
        return converted

    def raw(self, loc: Located) -> Located:
        """The raw (unconverted) schema at `loc` with top-level references followed."""
        return self.resolver.deref(loc)

    # --- definitions -------------------------------------------------------------------------

    def _register(self, target: Located) -> str:
        key = (target.uri, target.pointer)
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = unique_name(def_name(target.uri, target.pointer), self._taken)
            self._targets[name] = target
        return name

    def _materialize(self, name: str, mode: Mode) -> Converted:
        converted = self._done.get((name, mode))
        if converted is None:
            target = self._targets[name]
            ctx = _Ctx(target.uri, mode)
            try:
                schema = self._schema(target.value, ctx)
            except SpecError as exc:
                raise exc.locate(target.uri, target.pointer) from None
            converted = self._done[(name, mode)] = Converted(schema, frozenset(ctx.deps))
            if not ctx.sensitive:  # no readOnly/writeOnly property: the other mode is identical
                self._done.setdefault((name, _OTHER_MODE[mode]), converted)
        return converted

    # --- the walk ----------------------------------------------------------------------------

    def _schema(self, node: Any, ctx: _Ctx) -> Any:
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            return {}
        out: dict[str, Any] = {}
        key = ""
        try:
            for key, value in node.items():
                handler = _HANDLERS.get(key)
                if handler is not None:
                    handler(self, value, ctx, out)
        except SpecError as exc:
            exc.prepend(key)
            raise
        if "properties" in node or "required" in node:
            self._object(node, ctx, out)
        return out if _POST_KEYS.isdisjoint(node) else _finish(node, out)

    def _child(self, node: Any, ctx: _Ctx, token: str | int) -> Any:
        try:
            return self._schema(node, ctx)
        except SpecError as exc:
            exc.prepend(token)
            raise

    def _object(self, node: dict[str, Any], ctx: _Ctx, out: dict[str, Any]) -> None:
        hidden: set[str] = set()
        properties = node.get("properties")
        if isinstance(properties, dict):
            try:
                out["properties"] = self._properties(properties, ctx, hidden)
            except SpecError as exc:
                exc.prepend("properties")
                raise
        required = node.get("required")
        if isinstance(required, list):
            # de-duplicated: 2020-12 demands unique items, and some specs repeat names
            names = dict.fromkeys(r for r in required if isinstance(r, str) and r not in hidden)
            if names:
                out["required"] = list(names)

    def _properties(self, properties: dict[str, Any], ctx: _Ctx, hidden: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in properties.items():
            try:
                if isinstance(value, dict) and self._hidden(value, ctx):
                    hidden.add(name)
                elif isinstance(value, dict | bool):
                    out[name] = self._schema(value, ctx)
            except SpecError as exc:
                exc.prepend(name)
                raise
        return out

    def _hidden(self, value: dict[str, Any], ctx: _Ctx) -> bool:
        """Is this property readOnly (input walk) or writeOnly (output walk)?"""
        ref = value.get("$ref")
        if isinstance(ref, str):
            target = self.resolver.deref(self.resolver.resolve(ref, ctx.uri)).value
            flags = _access_flags(value) | _access_flags(target)
        elif "readOnly" in value or "writeOnly" in value:
            flags = _access_flags(value)
        else:
            return False  # the common case, kept cheap
        if flags:
            ctx.sensitive = True
        return ("readOnly" if ctx.mode == "input" else "writeOnly") in flags

    def _def_ref(self, ref: str, ctx: _Ctx) -> str:
        name = self._register(self.resolver.resolve(ref, ctx.uri))
        ctx.deps.add(name)
        return f"#/$defs/{name}"

    def _mapping_ref(self, value: str, ctx: _Ctx) -> str | None:
        # A bare mapping value names a component schema; anything else is a reference.
        ref = value if any(c in value for c in "#/.") else f"#/components/schemas/{value}"
        try:
            return self._def_ref(ref, ctx)
        except SpecError:
            return None  # a broken mapping entry only loses a hint, the schema stays valid

    def _regex(self, pattern: str) -> bool:
        """Does Python accept the regex? (`check_schema` compiles every `pattern` with `re`)."""
        ok = self._regex_ok.get(pattern)
        if ok is None:
            ok = self._regex_ok[pattern] = _compiles(pattern)
            if not ok:
                self.warn(f"dropped a regex pattern Python cannot compile: {pattern[:80]!r}")
        return ok


def _access_flags(node: Any) -> set[str]:
    if not isinstance(node, dict):
        return set()
    return {flag for flag in ("readOnly", "writeOnly") if node.get(flag) is True}


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError):
        return False
    return True


def _finish(node: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """Keywords whose meaning depends on their neighbours (OpenAPI 2.0/3.0 forms)."""
    if "example" in node and "examples" not in out and not _is_reference(node["example"]):
        out["examples"] = [node["example"]]
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if node.get(exclusive) is True and bound in out:  # 3.0 boolean -> 2020-12 number
            out[exclusive] = out.pop(bound)
    if node.get("nullable") is True or node.get("x-nullable") is True:
        return _nullable(out)
    return out


def _is_reference(value: Any) -> bool:
    # `example: {$ref: ...}` is a spec mistake (examples are literal data); keeping it would
    # leave a reference to the spec inside the tool schema.
    return isinstance(value, dict) and "$ref" in value


def _nullable(out: dict[str, Any]) -> dict[str, Any]:
    kind = out.get("type")
    if kind is None:
        return {"anyOf": [out, {"type": "null"}]} if out else out
    if isinstance(kind, list):
        if "null" not in kind:
            out["type"] = [*kind, "null"]
    elif kind != "null":
        out["type"] = [kind, "null"]
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]  # else null would fail the enum
    return out


# --- keyword handlers: (converter, value, walk state, output) -> None ------------------------

Handler = Callable[[SchemaConverter, Any, _Ctx, dict[str, Any]], None]


def _type(conv: SchemaConverter, value: Any, ctx: _Ctx, out: dict[str, Any]) -> None:
    names: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        name = item.lower() if isinstance(item, str) else None
        if name == "file":  # Swagger 2.0 upload
            name = "string"
            out.setdefault("format", "binary")
        if name in _JSON_TYPES and name not in names:
            names.append(name)
    if names:
        out["type"] = names[0] if len(names) == 1 else names


def _ref(conv: SchemaConverter, value: Any, ctx: _Ctx, out: dict[str, Any]) -> None:
    if isinstance(value, str):
        out["$ref"] = conv._def_ref(value, ctx)


def _discriminator(conv: SchemaConverter, value: Any, ctx: _Ctx, out: dict[str, Any]) -> None:
    if isinstance(value, str):  # Swagger 2.0: just the property name
        out["discriminator"] = {"propertyName": value}
        return
    if not isinstance(value, dict) or not isinstance(value.get("propertyName"), str):
        return
    result: dict[str, Any] = {"propertyName": value["propertyName"]}
    mapping = value.get("mapping")
    if isinstance(mapping, dict):
        refs = {str(k): conv._mapping_ref(v, ctx) for k, v in mapping.items() if isinstance(v, str)}
        if any(refs.values()):
            result["mapping"] = {k: v for k, v in refs.items() if v}
    out["discriminator"] = result


def _pattern(conv: SchemaConverter, value: Any, ctx: _Ctx, out: dict[str, Any]) -> None:
    if isinstance(value, str) and conv._regex(value):
        out["pattern"] = value


def _subschema(key: str) -> Handler:
    def handle(conv: SchemaConverter, value: Any, ctx: _Ctx, out: dict[str, Any]) -> None:
        if isinstance(value, dict | bool):
            out[key] = conv._schema(value, ctx)

    return handle


def _schema_list(key: str) -> Handler:
    def handle(conv: SchemaConverter, value: Any, ctx: _Ctx, out: dict[str, Any]) -> None:
        if isinstance(value, list):
            items = [conv._child(v, ctx, i) for i, v in enumerate(value) if isinstance(v, dict | bool)]
            if items:  # 2020-12 forbids empty allOf/anyOf/oneOf/prefixItems
                out[key] = items

    return handle


def _items(conv: SchemaConverter, value: Any, ctx: _Ctx, out: dict[str, Any]) -> None:
    if isinstance(value, list):  # draft-4 tuple form
        _schema_list("prefixItems")(conv, value, ctx, out)
    elif isinstance(value, dict | bool):
        out["items"] = conv._schema(value, ctx)


def _pattern_properties(conv: SchemaConverter, value: Any, ctx: _Ctx, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        found = {k: conv._child(v, ctx, k) for k, v in value.items() if conv._regex(k)}
        if found:
            out["patternProperties"] = found


def _dependent_schemas(conv: SchemaConverter, value: Any, ctx: _Ctx, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        out["dependentSchemas"] = {k: conv._child(v, ctx, k) for k, v in value.items()}


def _dependent_required(conv: SchemaConverter, value: Any, ctx: _Ctx, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        found = {k: list(dict.fromkeys(v)) for k, v in value.items() if _strings(v)}
        if found:
            out["dependentRequired"] = found


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _copy_if(key: str, accept: Callable[[Any], bool]) -> Handler:
    def handle(conv: SchemaConverter, value: Any, ctx: _Ctx, out: dict[str, Any]) -> None:
        if accept(value):
            out[key] = value

    return handle


def _count(key: str) -> Handler:
    def handle(conv: SchemaConverter, value: Any, ctx: _Ctx, out: dict[str, Any]) -> None:
        if _is_number(value) and value >= 0 and value == int(value):
            out[key] = int(value)  # 10.0 from a generator is still a count

    return handle


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


def _build_handlers() -> dict[str, Handler]:
    handlers: dict[str, Handler] = {
        "type": _type,
        "$ref": _ref,
        "discriminator": _discriminator,
        "pattern": _pattern,
        "items": _items,
        "patternProperties": _pattern_properties,
        "dependentSchemas": _dependent_schemas,
        "dependentRequired": _dependent_required,
        "multipleOf": _copy_if("multipleOf", lambda v: _is_number(v) and v > 0),
    }
    for key in (
        "additionalProperties",
        "not",
        "propertyNames",
        "contains",
        "if",
        "then",
        "else",
        "unevaluatedProperties",
        "unevaluatedItems",
        "contentSchema",
    ):
        handlers[key] = _subschema(key)
    for key in ("allOf", "anyOf", "oneOf", "prefixItems"):
        handlers[key] = _schema_list(key)
    for key in (
        "maxLength",
        "minLength",
        "maxItems",
        "minItems",
        "maxProperties",
        "minProperties",
        "maxContains",
        "minContains",
    ):
        handlers[key] = _count(key)
    for key in ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum"):
        handlers[key] = _copy_if(key, _is_number)  # boolean exclusive* are handled in _finish
    for key in ("title", "description", "format", "contentMediaType", "contentEncoding"):
        handlers[key] = _copy_if(key, _is_str)
    for key in ("uniqueItems", "readOnly", "writeOnly", "deprecated"):
        handlers[key] = _copy_if(key, _is_bool)
    handlers["enum"] = _copy_if("enum", _is_list)
    handlers["examples"] = _copy_if("examples", lambda v: _is_list(v) and not any(map(_is_reference, v)))
    for key in ("const", "default"):
        handlers[key] = _copy_if(key, lambda v: not _is_reference(v))
    return handlers


# Read-only after import. `properties`/`required` are handled together (readOnly/writeOnly
# filtering needs both); `example`, `nullable` and boolean bounds in `_finish`; everything else
# (x-*, xml, externalDocs, $id, $schema, $comment, nested $defs reached only via $ref) is dropped.
_HANDLERS: dict[str, Handler] = _build_handlers()
