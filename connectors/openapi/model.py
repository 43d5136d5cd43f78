"""The contract between the OpenAPI converter, the catalog and the executor.

Everything here is plain data that round-trips through JSON (`to_dict`/`from_dict`),
because the catalog stores it and the hub rebuilds it on every catalog reload.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ParamLocation = Literal["path", "query", "header", "cookie"]
ValueKind = Literal["primitive", "array", "object"]


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One OpenAPI parameter and how its argument is serialised onto the wire."""

    name: str  # the name on the wire
    location: ParamLocation
    arg: str  # the property name in the tool's inputSchema
    required: bool = False
    style: str = "simple"  # OpenAPI style; defaults per location are filled in by the converter
    explode: bool = False
    allow_reserved: bool = False
    kind: ValueKind = "primitive"
    content_type: str | None = None  # set for `content`-described parameters (value sent as JSON text)


@dataclass(frozen=True, slots=True)
class FieldEncoding:
    """Per-property encoding of a form or multipart body (OpenAPI `encoding`)."""

    content_type: str | None = None
    style: str = "form"
    explode: bool = True
    kind: ValueKind = "primitive"
    binary: bool = False  # file part: the argument is the file content, base64-encoded


@dataclass(frozen=True, slots=True)
class BodySpec:
    """The request body.

    With `arg` set, the whole body is the single argument `arg`. Otherwise the body is an
    object whose properties are flattened into the tool's arguments: `fields` maps the
    argument name to the body property name.
    """

    media_type: str  # application/json, application/x-www-form-urlencoded, multipart/form-data, ...
    required: bool = False
    arg: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    encoding: dict[str, FieldEncoding] = field(default_factory=dict)  # keyed by body property name
    binary: bool = False  # whole-body argument (`arg`) is base64 of raw bytes (e.g. octet-stream upload)


@dataclass(frozen=True, slots=True)
class OperationPlan:
    """What the executor needs to turn tool arguments into one HTTP request."""

    method: str  # upper case
    path: str  # template, e.g. /pets/{petId}
    server_url: str  # the operation's server URL from the spec (may be relative or empty)
    params: tuple[ParamSpec, ...] = ()
    body: BodySpec | None = None
    # OR-list of AND-sets of security scheme names; () means "no requirement declared"
    security: tuple[tuple[str, ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OperationPlan:
        body = data.get("body")
        return cls(
            method=data["method"],
            path=data["path"],
            server_url=data.get("server_url", ""),
            params=tuple(ParamSpec(**p) for p in data.get("params", ())),
            body=_body_from_dict(body) if body else None,
            security=tuple(tuple(alt) for alt in data.get("security", ())),
        )


def _body_from_dict(data: dict[str, Any]) -> BodySpec:
    encoding = {k: FieldEncoding(**v) for k, v in (data.get("encoding") or {}).items()}
    return BodySpec(
        media_type=data["media_type"],
        required=data.get("required", False),
        arg=data.get("arg"),
        fields=dict(data.get("fields") or {}),
        encoding=encoding,
        binary=data.get("binary", False),
    )


@dataclass(slots=True)
class ToolDef:
    """One operation as an MCP tool, before the hub applies its namespace and overrides."""

    key: str  # stable identity across re-imports: "GET /pets/{petId}"
    name: str  # unique within the API, <= 48 chars, ^[A-Za-z0-9_-]+$ (the hub adds the API prefix)
    description: str
    input_schema: dict[str, Any]
    plan: OperationPlan
    title: str | None = None
    output_schema: dict[str, Any] | None = None
    annotations: dict[str, Any] = field(default_factory=dict)
    scopes: tuple[str, ...] = ()  # oauth2/openIdConnect scopes the operation declares
    deprecated: bool = False
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    """A `securitySchemes` entry reduced to what upstream credential injection needs."""

    name: str
    type: Literal["apiKey", "http", "oauth2", "openIdConnect", "mutualTLS", "other"]
    location: ParamLocation | None = None  # apiKey: header/query/cookie
    param_name: str | None = None  # apiKey: the header/query/cookie name
    scheme: str | None = None  # http: bearer/basic/...
    token_url: str | None = None  # oauth2 clientCredentials token endpoint
    scopes: tuple[str, ...] = ()


@dataclass(slots=True)
class ApiDef:
    """A converted spec: API metadata plus its tools."""

    title: str
    version: str
    description: str
    openapi_version: str
    servers: list[str]
    security_schemes: dict[str, SecurityScheme]
    tools: list[ToolDef]
    warnings: list[str] = field(default_factory=list)
