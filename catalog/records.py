"""Plain values the catalog store returns, and the validation rules for what it accepts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.openapi.model import SecurityScheme

API_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")  # used with fullmatch: ^...$ would accept "x\n"
TENANT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
TOOL_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # final (hub-wide) tool names, MCP-safe
MAX_TOOL_KEY_LENGTH = 2048


class CatalogError(Exception):
    """A catalog request was refused (bad name, unknown API or tool, unstorable data)."""


def check_api_name(name: str) -> None:
    if not isinstance(name, str) or not API_NAME_RE.fullmatch(name):
        raise CatalogError(
            f"invalid API name {name!r}: use 1-32 letters, digits, '_' or '-', starting with a letter"
        )


def check_tenant(tenant: str) -> None:
    if not isinstance(tenant, str) or not TENANT_RE.fullmatch(tenant):
        raise CatalogError(f"invalid tenant {tenant!r}")


def check_tool_name(name: str) -> None:
    if not TOOL_NAME_RE.fullmatch(name):
        raise CatalogError(f"invalid tool name {name!r}: use 1-64 letters, digits, '_', '-' or '.'")


@dataclass(frozen=True, slots=True)
class ApiVersionInfo:
    """An API's current version as the CLI and admin API show it. Holds no secrets."""

    name: str
    tenant: str
    version: int
    source: str
    title: str
    description: str
    spec_version: str
    openapi_version: str
    base_url: str | None
    servers: list[str]
    security_schemes: dict[str, SecurityScheme]
    warnings: list[str]
    tool_count: int
    has_credentials: bool
    created_at: str  # ISO 8601, UTC: when this version was imported
    updated_at: str  # ISO 8601, UTC: last change of the API (import or override)


@dataclass(frozen=True, slots=True)
class ToolOverrideInfo:
    """Operator changes to one tool; None means "as the spec says"."""

    api: str
    key: str
    tenant: str
    enabled: bool | None = None
    name: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class StoredTool:
    """A tool as stored; schemas and plan stay JSON text until someone needs them parsed."""

    key: str
    name: str
    title: str | None
    description: str
    input_schema: str
    output_schema: str | None
    plan: str
    annotations: dict[str, Any]
    scopes: tuple[str, ...]
    tags: tuple[str, ...]
    deprecated: bool


@dataclass(frozen=True, slots=True)
class CatalogApi:
    """One API's current version with its tools and overrides, as `load_catalog` returns it."""

    tenant: str
    name: str
    version: int
    source: str
    title: str
    base_url: str | None
    security_schemes: Mapping[str, SecurityScheme]
    tools: tuple[StoredTool, ...]
    overrides: Mapping[str, ToolOverrideInfo] = field(default_factory=dict)  # by tool key
    credentials: dict[str, Any] | None = field(default=None, repr=False)  # decrypted
