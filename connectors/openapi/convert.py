"""A loaded OpenAPI/Swagger spec as an ApiDef: one MCP tool per path operation.

Reading is version-aware only where 2.0 and 3.x really differ (parameters with `in: body` and
`formData`, `consumes`/`produces`, host/basePath, `securityDefinitions`); schemas go through
`schema.SchemaConverter`, which treats all three versions alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from connectors.openapi.errors import SpecError
from connectors.openapi.loader import LoadedSpec, Located
from connectors.openapi.model import (
    ApiDef,
    BodySpec,
    FieldEncoding,
    OperationPlan,
    ParamLocation,
    ParamSpec,
    SecurityScheme,
    ToolDef,
    ValueKind,
)
from connectors.openapi.naming import (
    METHODS,
    assign_tool_names,
    base_tool_name,
    clip,
    sanitize_arg,
    unique_arg,
)
from connectors.openapi.schema import Converted, SchemaConverter

_LOCATIONS: tuple[ParamLocation, ...] = ("path", "query", "header", "cookie")
_DEFAULT_STYLE = {"path": "simple", "query": "form", "header": "simple", "cookie": "form"}
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})  # OAS: described elsewhere
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
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
_MAX_WARNINGS = 100
_TITLE_MAX = 200  # some specs put paragraphs in `summary`; the description keeps all of it
_BINARY_NOTE = "File content, base64-encoded."
_BINARY_ITEMS_NOTE = "Each item is a file's content, base64-encoded."


def convert(spec: LoadedSpec) -> ApiDef:
    """Every path operation of `spec` as a ToolDef (webhooks and callbacks are not operations)."""
    return _ApiBuilder(spec).build()


# --- small shared pieces ---------------------------------------------------------------------


@dataclass(slots=True)
class _Warnings:
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


@dataclass(frozen=True, slots=True)
class _Op:
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
class _Inputs:
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


@dataclass(frozen=True, slots=True)
class _BodySource:
    """A request body as read from the spec, before it becomes arguments."""

    media_type: str
    required: bool
    schema: Located | None
    description: str | None
    encoding: Located | None  # 3.x `encoding` map (or one synthesised from 2.0 formData)


def _is_json(media_type: str) -> bool:
    base = media_type.split(";", 1)[0].strip().lower()
    return base in ("application/json", "text/json") or base.endswith("+json")


def _with_description(schema: Any, description: str | None) -> Any:
    if not description:
        return schema
    base = schema if isinstance(schema, dict) else {}
    return {**base, "description": description}


def _kind(raw: Any) -> ValueKind:
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


def _is_binary(raw: Any) -> bool:
    if not isinstance(raw, dict):
        return False
    return raw.get("type") == "file" or raw.get("format") in ("binary", "byte")


# --- the builder -----------------------------------------------------------------------------


class _ApiBuilder:
    def __init__(self, spec: LoadedSpec) -> None:
        self.spec = spec
        self.root = spec.root
        self.resolver = spec.resolver
        self.warnings = _Warnings()
        self.schemas = SchemaConverter(spec.resolver, self.warnings.add)
        self.schemes = self._security_schemes()
        self.servers = self._root_servers()

    def build(self) -> ApiDef:
        if self.spec.version.startswith("3.2"):
            self.warnings.add("OpenAPI 3.2 read as 3.1: `query` and additionalOperations are ignored")
        ops = list(self._operations())
        tools = [tool for tool in (self._safe_tool(op) for op in ops) if tool is not None]
        names = assign_tool_names([t.name for t in tools], [(t.plan.path, t.plan.method) for t in tools])
        for tool, name in zip(tools, names, strict=True):
            tool.name = name
        info = self.root.get("info")
        info = self.resolver.deref(info) if info else None
        return ApiDef(
            title=self._text(info, "title") or "",
            version=self._text(info, "version") or "",
            description=self._text(info, "description") or "",
            openapi_version=self.spec.version,
            servers=self.servers,
            security_schemes=self.schemes,
            tools=tools,
            warnings=self.warnings.result(),
        )

    # --- walking the document -----------------------------------------------------------------

    def _operations(self) -> Iterator[_Op]:
        paths = self.root.get("paths")
        if paths is None:
            return
        for path, raw_item in self.resolver.deref(paths).items():
            if path.startswith("x-"):
                continue
            item = self.resolver.deref(raw_item)
            for method, raw_op in item.items():
                if method in METHODS:
                    yield _Op(path, method.upper(), item, self.resolver.deref(raw_op))

    def _safe_tool(self, op: _Op) -> ToolDef | None:
        if not isinstance(op.op.value, dict):
            self.warnings.add(f"skipped {op.key}: the operation is not an object")
            return None
        try:
            return self._tool(op)
        except SpecError:
            raise
        except Exception as exc:  # one odd operation must not sink the whole import
            self.warnings.add(f"skipped {op.key}: {type(exc).__name__}: {exc}")
            return None

    def _text(self, parent: Located | None, key: str) -> str | None:
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

    # --- one tool -----------------------------------------------------------------------------

    def _tool(self, op: _Op) -> ToolDef:
        inputs = _Inputs()
        raw_params = self._raw_params(op)
        params = self._params(op, raw_params, inputs)
        body = self._body(op, raw_params, inputs)
        summary = self._text(op.op, "summary")
        title = clip(summary, _TITLE_MAX) if summary else None
        deprecated = op.op.value.get("deprecated") is True
        requirements = self._requirements(op)
        return ToolDef(
            key=op.key,
            name=base_tool_name(op.op.value.get("operationId"), op.method, op.path),
            description=self._description(op, summary, deprecated),
            input_schema=inputs.schema(self.schemas.defs(inputs.deps, "input")),
            plan=OperationPlan(
                op.method, op.request_path, self._server(op), params, body, _security(requirements)
            ),
            title=title,
            output_schema=self._output(op),
            annotations=_annotations(op.method, title),
            scopes=self._scopes(requirements),
            deprecated=deprecated,
            tags=_tags(op.op.value.get("tags")),
        )

    def _description(self, op: _Op, summary: str | None, deprecated: bool) -> str:
        description = self._text(op.op, "description")
        parts = [summary, description if description != summary else None]
        text = "\n\n".join(p for p in parts if p) or op.key
        return clip(f"Deprecated. {text}" if deprecated else text)

    # --- parameters ---------------------------------------------------------------------------

    def _raw_params(self, op: _Op) -> list[Located]:
        """Path-item then operation parameters, `$ref`s followed; the operation's win."""
        found: dict[tuple[str, str], Located] = {}
        for owner in (op.item, op.op):
            listed = owner.get("parameters")
            for raw in self.resolver.deref(listed).elements() if listed else ():
                param = self.resolver.deref(raw)
                if self._usable_param(param, op):
                    found[(param.value["in"], param.value["name"])] = param
        return list(found.values())

    def _usable_param(self, param: Located, op: _Op) -> bool:
        value = param.value
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            self.warnings.add(f"{op.key}: skipped a parameter without a name")
            return False
        location = value.get("in")
        if location in _LOCATIONS or (self.spec.is_swagger2 and location in ("body", "formData")):
            return True
        self.warnings.add(f"{op.key}: skipped parameter {value['name']!r} (unsupported 'in': {location!r})")
        return False

    def _params(self, op: _Op, raw_params: list[Located], inputs: _Inputs) -> tuple[ParamSpec, ...]:
        params = [p for p in raw_params if p.value["in"] in _LOCATIONS and not _ignored(p.value)]
        params += self._undeclared_path_params(op, params)
        params.sort(key=lambda p: _LOCATIONS.index(p.value["in"]))  # path params get the plain names
        return tuple(self._param(param, inputs) for param in params)

    def _undeclared_path_params(self, op: _Op, params: list[Located]) -> list[Located]:
        """`{name}`s of the path template that no parameter declares (a spec bug, but common)."""
        declared = {p.value["name"] for p in params if p.value["in"] == "path"}
        found = []
        for name in dict.fromkeys(re.findall(r"\{([^{}]+)\}", op.request_path)):
            if name not in declared:
                self.warnings.add(f"{op.key}: path parameter {name!r} is not declared; taken as a string")
                synthetic = {"name": name, "in": "path", "type": "string"}
                found.append(Located(synthetic, op.op.uri, op.op.pointer))
        return found

    def _param(self, param: Located, inputs: _Inputs) -> ParamSpec:
        value = param.value
        name, location = value["name"], value["in"]
        arg = unique_arg(sanitize_arg(name), set(inputs.properties), [sanitize_arg(f"{location}_{name}")])
        schema_loc, content_type = self._param_schema(param)
        converted = self.schemas.convert(schema_loc, "input")
        required = location == "path" or value.get("required") is True
        inputs.add(arg, self._param_property(param, converted), converted.deps, required)
        kind = _kind(self.schemas.raw(schema_loc).value)
        style, explode = self._style(value, location, kind)
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

    def _param_schema(self, param: Located) -> tuple[Located, str | None]:
        """Where the parameter's value schema is, and the media type of a `content` parameter."""
        value = param.value
        if not self.spec.is_swagger2 and "schema" in value:
            return param.child("schema"), None
        if not self.spec.is_swagger2 and "content" in value:
            for media_type, media in self.resolver.deref(param.child("content")).items():
                media = self.resolver.deref(media)
                return media.get("schema") or Located({}, media.uri, media.pointer), media_type
        return Located(_param_fields(value), param.uri, param.pointer), None

    def _param_property(self, param: Located, converted: Converted) -> Any:
        value = param.value
        schema = _with_description(converted.schema, self._text(param, "description"))
        schema = schema if isinstance(schema, dict) else {}
        extra: dict[str, Any] = {"deprecated": True} if value.get("deprecated") is True else {}
        if "example" in value and not self.spec.is_swagger2 and "examples" not in schema:
            extra["examples"] = [value["example"]]
        return {**schema, **extra} if extra else schema

    def _style(self, value: dict[str, Any], location: str, kind: ValueKind) -> tuple[str, bool]:
        if self.spec.is_swagger2:
            return self._collection_style(value, location, kind)
        style = value.get("style")
        style = style if isinstance(style, str) else _DEFAULT_STYLE[location]
        explode = value.get("explode")
        return style, explode if isinstance(explode, bool) else style == "form"

    def _collection_style(self, value: dict[str, Any], location: str, kind: ValueKind) -> tuple[str, bool]:
        default = "form" if location in ("query", "cookie", "formData") else "simple"
        if kind != "array":
            return default, default == "form"
        fmt = value.get("collectionFormat", "csv")
        if fmt not in _COLLECTION_FORMATS:
            self.warnings.add(f"parameter {value['name']!r}: collectionFormat {fmt!r} sent as csv")
            fmt = "csv"
        style, explode = _COLLECTION_FORMATS[fmt]
        return style or default, explode

    # --- request body -------------------------------------------------------------------------

    def _body(self, op: _Op, raw_params: list[Located], inputs: _Inputs) -> BodySpec | None:
        source = self._swagger_body(op, raw_params) if self.spec.is_swagger2 else self._openapi_body(op)
        if source is None:
            return None
        empty = Converted({}, frozenset())
        converted = self.schemas.convert(source.schema, "input") if source.schema else empty
        encoding = self._encoding(source)
        fields = self._flatten(source, converted, inputs, encoding)
        if fields is not None:
            return BodySpec(source.media_type, source.required, None, fields, encoding)
        return self._whole_body(source, converted, inputs, encoding)

    def _openapi_body(self, op: _Op) -> _BodySource | None:
        loc = op.op.get("requestBody")
        if loc is None:
            return None
        body = self.resolver.deref(loc)
        content = body.get("content")
        media_types = list(self.resolver.deref(content).items()) if content else []
        if not media_types:
            return None
        media_type, media = min(media_types, key=lambda pair: _media_rank(pair[0]))
        media = self.resolver.deref(media)
        return _BodySource(
            media_type=media_type,
            required=body.value.get("required") is True,
            schema=media.get("schema"),
            description=self._text(body, "description"),
            encoding=media.get("encoding"),
        )

    def _swagger_body(self, op: _Op, params: list[Located]) -> _BodySource | None:
        consumes = self._consumes(op)
        for param in params:
            if param.value["in"] == "body":
                media_type = next((c for c in consumes if _is_json(c)), consumes[0] if consumes else None)
                return _BodySource(
                    media_type=media_type or "application/json",
                    required=param.value.get("required") is True,
                    schema=param.get("schema"),
                    description=self._text(param, "description"),
                    encoding=None,
                )
        form = [p for p in params if p.value["in"] == "formData"]
        return self._form_body(form, consumes, op) if form else None

    def _form_body(self, params: list[Located], consumes: list[str], op: _Op) -> _BodySource:
        """Swagger 2.0 formData parameters as one object body with a 3.x-style `encoding`."""
        properties: dict[str, Any] = {}
        encoding: dict[str, Any] = {}
        required = [p.value["name"] for p in params if p.value.get("required") is True]
        for param in params:
            name = param.value["name"]
            properties[name] = _with_description(_param_fields(param.value), self._text(param, "description"))
            style, explode = self._collection_style(param.value, "formData", _kind(param.value))
            encoding[name] = {"style": style, "explode": explode}
        multipart = any(p.value.get("type") == "file" for p in params) or any(
            c.split(";")[0].strip().lower() == _MULTIPART for c in consumes
        )
        schema = {"type": "object", "properties": properties, "required": required}
        return _BodySource(
            media_type=_MULTIPART if multipart else _FORM,
            required=bool(required),
            schema=Located(schema, op.op.uri, op.op.pointer),
            description=None,
            encoding=Located(encoding, op.op.uri, op.op.pointer),
        )

    def _consumes(self, op: _Op) -> list[str]:
        value = op.op.value.get("consumes", self.root.value.get("consumes"))
        return [c for c in value if isinstance(c, str)] if isinstance(value, list) else []

    def _encoding(self, source: _BodySource) -> dict[str, FieldEncoding]:
        """Per-property encoding of a form or multipart body."""
        base = source.media_type.split(";")[0].strip().lower()
        if base not in (_FORM, _MULTIPART) or source.schema is None:
            return {}
        properties = self.schemas.raw(source.schema).get("properties")
        if properties is None:
            return {}
        properties = self.resolver.deref(properties)
        declared = self.resolver.deref(source.encoding) if source.encoding else None
        return {
            name: self._field_encoding(self.schemas.raw(prop), declared.get(name) if declared else None)
            for name, prop in properties.items()
        }

    def _field_encoding(self, prop: Located, declared: Located | None) -> FieldEncoding:
        spec = self.resolver.deref(declared).value if declared else {}
        spec = spec if isinstance(spec, dict) else {}
        raw, kind = prop.value, _kind(prop.value)
        items_loc = prop.get("items") if kind == "array" else None
        items = self.schemas.raw(items_loc).value if items_loc else None
        style = _string(spec.get("style")) or "form"
        explode = spec.get("explode")
        return FieldEncoding(
            content_type=_string(spec.get("contentType")),
            style=style,
            explode=explode if isinstance(explode, bool) else style == "form",
            kind=kind,
            binary=_is_binary(raw) or (kind == "array" and _is_binary(items)),
        )

    def _flatten(
        self, source: _BodySource, converted: Converted, inputs: _Inputs, encoding: dict[str, FieldEncoding]
    ) -> dict[str, str] | None:
        """Body properties as top-level arguments (arg -> property), or None to keep one `body` arg."""
        body = self.schemas.inline(converted, "input")
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
        self, source: _BodySource, converted: Converted, inputs: _Inputs, encoding: dict[str, FieldEncoding]
    ) -> BodySpec:
        arg = unique_arg("body", set(inputs.properties), ["requestBody"])
        binary = self._raw_binary_body(source)
        schema, deps = _with_description(converted.schema, source.description), converted.deps
        if binary:
            schema = {**schema, "type": "string", "contentEncoding": "base64"}
            schema["description"] = _join(source.description, _BINARY_NOTE)
        elif not _is_structured(source.media_type) and not self._is_text_schema(source):
            # e.g. an XML body: its object schema cannot be sent as such, the caller writes the text
            note = f"The request body as {source.media_type.split(';')[0].strip()} text."
            schema, deps = {"type": "string", "description": _join(source.description, note)}, frozenset()
        inputs.add(arg, schema, deps, source.required)
        return BodySpec(source.media_type, source.required, arg, {}, encoding, binary)

    def _is_text_schema(self, source: _BodySource) -> bool:
        raw = self.schemas.raw(source.schema).value if source.schema else None
        return isinstance(raw, dict) and raw.get("type") == "string"

    def _raw_binary_body(self, source: _BodySource) -> bool:
        """Is the whole body raw bytes (an upload), which the caller passes as base64?"""
        base = source.media_type.split(";")[0].strip().lower()
        if _is_structured(base) or base.startswith("text/") or base.endswith("xml"):
            return False
        return source.schema is None or _is_binary(self.schemas.raw(source.schema).value)

    # --- response, security, servers ----------------------------------------------------------

    def _output(self, op: _Op) -> dict[str, Any] | None:
        schema_loc = self._response_schema(op)
        if schema_loc is None:
            return None
        body = self.schemas.inline(self.schemas.convert(schema_loc, "output"), "output")
        schema = body.schema
        if not isinstance(schema, dict) or not _is_object(schema):
            return None
        out = {**schema, "type": "object"}
        defs = self.schemas.defs(body.deps, "output")
        return {**out, "$defs": defs} if defs else out

    def _response_schema(self, op: _Op) -> Located | None:
        responses = op.op.get("responses")
        if responses is None:
            return None
        responses = self.resolver.deref(responses)
        code = _success_code([k for k, _ in responses.items()])
        if code is None:
            return None
        response = self.resolver.deref(responses.child(code))
        if self.spec.is_swagger2:
            produces = op.op.value.get("produces", self.root.value.get("produces"))
            listed = [str(p) for p in produces] if isinstance(produces, list) else []
            return response.get("schema") if not listed or any(map(_is_json, listed)) else None
        content = response.get("content")
        for media_type, media in self.resolver.deref(content).items() if content else ():
            if _is_json(media_type):
                return self.resolver.deref(media).get("schema")
        return None

    def _requirements(self, op: _Op) -> list[dict[str, Any]]:
        """The operation's security requirements (else the root's; an explicit [] means none)."""
        holder = op.op.value if "security" in op.op.value else self.root.value
        requirements = holder.get("security")
        return [r for r in requirements if isinstance(r, dict)] if isinstance(requirements, list) else []

    def _scopes(self, requirements: list[dict[str, Any]]) -> tuple[str, ...]:
        """Scopes the oauth2/openIdConnect requirements list, sorted and de-duplicated."""
        scopes: set[str] = set()
        for requirement in requirements:
            for name, listed in requirement.items():
                scheme = self.schemes.get(str(name))
                if scheme and scheme.type in ("oauth2", "openIdConnect") and isinstance(listed, list):
                    scopes.update(s for s in listed if isinstance(s, str))
        return tuple(sorted(scopes))

    def _security_schemes(self) -> dict[str, SecurityScheme]:
        if self.spec.is_swagger2:
            container = self.root.get("securityDefinitions")
        else:
            components = self.root.get("components")
            container = self.resolver.deref(components).get("securitySchemes") if components else None
        schemes = {}
        for name, loc in self.resolver.deref(container).items() if container else ():
            value = self.resolver.deref(loc).value
            if isinstance(value, dict):
                schemes[name] = _security_scheme(name, value)
        return schemes

    def _root_servers(self) -> list[str]:
        if self.spec.is_swagger2:
            url = self._swagger_server(self.root.value.get("schemes"))
            return [url] if url else []
        return self._server_urls(self.root)

    def _server(self, op: _Op) -> str:
        if self.spec.is_swagger2:
            return self._swagger_server(op.op.value.get("schemes") or self.root.value.get("schemes"))
        urls = self._server_urls(op.op) or self._server_urls(op.item) or self.servers
        return urls[0] if urls else ""

    def _server_urls(self, holder: Located) -> list[str]:
        listed = holder.get("servers")
        servers = (
            [self.resolver.deref(s).value for s in self.resolver.deref(listed).elements()] if listed else []
        )
        return [self._server_url(s) for s in servers if isinstance(s, dict) and isinstance(s.get("url"), str)]

    def _server_url(self, server: dict[str, Any]) -> str:
        """The URL with each `{variable}` replaced by its default."""
        declared = server.get("variables")
        variables: dict[str, Any] = declared if isinstance(declared, dict) else {}

        def substitute(match: re.Match[str]) -> str:
            variable = variables.get(match.group(1))
            if isinstance(variable, dict) and "default" in variable:
                return str(variable["default"])
            self.warnings.add(f"server {server['url']!r}: variable {match.group(1)!r} has no default")
            return match.group(0)

        return re.sub(r"\{([^{}]+)\}", substitute, str(server["url"]).strip())

    def _swagger_server(self, schemes: Any) -> str:
        """host + basePath + a scheme (https preferred; else the spec URL's own scheme)."""
        root = self.root.value
        host = root.get("host") if isinstance(root.get("host"), str) else ""
        base_path = root.get("basePath") if isinstance(root.get("basePath"), str) else ""
        base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        if not host:
            return base_path  # relative: the hub resolves it against the spec URL or the base URL
        listed = [s for s in schemes if isinstance(s, str)] if isinstance(schemes, list) else []
        own = self.spec.uri.split(":", 1)[0] if self.spec.resolver.remote else "https"
        scheme = "https" if "https" in listed else "http" if "http" in listed else own
        return f"{scheme}://{host.rstrip('/')}{base_path}"


# --- module-level helpers --------------------------------------------------------------------


def _security(requirements: list[dict[str, Any]]) -> tuple[tuple[str, ...], ...]:
    """OR-list of AND-sets of scheme names; `{}` (anonymous allowed) stays as an empty set."""
    return tuple(tuple(str(name) for name in requirement) for requirement in requirements)


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _tags(value: Any) -> tuple[str, ...]:
    return tuple(t for t in value if isinstance(t, str)) if isinstance(value, list) else ()


def _ignored(param: dict[str, Any]) -> bool:
    return param["in"] == "header" and param["name"].lower() in _IGNORED_HEADERS


def _param_fields(param: dict[str, Any]) -> dict[str, Any]:
    """The value schema of a 2.0-style parameter (its type/format/items/... fields)."""
    schema = {key: param[key] for key in _PARAM_SCHEMA_KEYS if key in param}
    if "x-example" in param and "example" not in schema:
        schema["example"] = param["x-example"]
    return schema


def _is_structured(media_type: str) -> bool:
    """Media types the executor builds from arguments (JSON, form, multipart)."""
    base = media_type.split(";", 1)[0].strip().lower()
    return _is_json(base) or base in (_FORM, _MULTIPART)


def _media_rank(media_type: str) -> int:
    """JSON first, then form, then multipart, then anything else (stable for equal ranks)."""
    base = media_type.split(";", 1)[0].strip().lower()
    if _is_json(base):
        return 0
    return {_FORM: 1, _MULTIPART: 2}.get(base, 3)


def _flattenable(schema: Any) -> bool:
    """A plain object with properties (no top-level composition, no free-form extra keys)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return False
    if not schema["properties"] or any(k in schema for k in ("allOf", "oneOf", "anyOf", "not", "$ref")):
        return False
    extra = schema.get("additionalProperties", False)  # a free-form map cannot become fixed arguments
    return schema.get("type", "object") == "object" and extra is False


def _is_object(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "object" or (kind is None and isinstance(schema.get("properties"), dict))


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


def _success_code(codes: list[str]) -> str | None:
    """200, then 201, then other 2xx, then 2XX; `default` only when no 2xx is declared."""
    explicit = [c for c in codes if re.fullmatch(r"2\d\d", c)]
    explicit.sort(key=lambda c: (c != "200", c != "201", c))
    ranged = [c for c in codes if c.upper() == "2XX"]
    ordered = explicit + ranged or [c for c in codes if c == "default"]
    return ordered[0] if ordered else None


def _annotations(method: str, title: str | None) -> dict[str, Any]:
    hints: dict[str, Any] = {"title": title} if title else {}
    hints["readOnlyHint"] = method in _READ_ONLY_METHODS
    if method == "DELETE":
        hints["destructiveHint"] = True
    if method in ("PUT", "DELETE"):
        hints["idempotentHint"] = True
    hints["openWorldHint"] = True
    return hints


def _security_scheme(name: str, value: dict[str, Any]) -> SecurityScheme:
    kind = value.get("type")
    if kind == "apiKey":
        location = value.get("in")
        param_name = value.get("name") if isinstance(value.get("name"), str) else None
        where = cast(ParamLocation, location) if location in ("header", "query", "cookie") else None
        return SecurityScheme(name, "apiKey", location=where, param_name=param_name)
    if kind in ("http", "basic"):  # 2.0 `basic` is http basic
        scheme = value.get("scheme", "basic" if kind == "basic" else None)
        return SecurityScheme(name, "http", scheme=str(scheme).lower() if scheme else None)
    if kind == "oauth2":
        return SecurityScheme(name, "oauth2", token_url=_token_url(value), scopes=_oauth_scopes(value))
    if kind in ("openIdConnect", "mutualTLS"):
        return SecurityScheme(name, kind)
    return SecurityScheme(name, "other")


def _oauth_flows(value: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """3.x `flows`, or the single 2.0 flow under its 2.0 name."""
    flows = value.get("flows")
    if isinstance(flows, dict):
        return {k: v for k, v in flows.items() if isinstance(v, dict)}
    return {str(value.get("flow")): value}


def _token_url(value: dict[str, Any]) -> str | None:
    flows = _oauth_flows(value)
    flow = flows.get("clientCredentials") or flows.get("application") or {}
    url = flow.get("tokenUrl")
    return url if isinstance(url, str) else None


def _oauth_scopes(value: dict[str, Any]) -> tuple[str, ...]:
    scopes: set[str] = set()
    for flow in _oauth_flows(value).values():
        if isinstance(flow.get("scopes"), dict):
            scopes.update(str(s) for s in flow["scopes"])
    return tuple(sorted(scopes))
