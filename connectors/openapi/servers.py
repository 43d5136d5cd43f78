"""Server URLs: 3.x `servers` (root, path item, operation) or 2.0 host + basePath + schemes."""

from __future__ import annotations

import re
from typing import Any

from connectors.openapi.loader import Located
from connectors.openapi.spec_reader import PathOperation, SpecReader


def root_servers(reader: SpecReader) -> list[str]:
    if reader.spec.is_swagger2:
        url = _swagger_server(reader, reader.root.value.get("schemes"))
        return [url] if url else []
    return _server_urls(reader, reader.root)


def operation_server(reader: SpecReader, op: PathOperation, root: list[str]) -> str:
    """The operation's base URL: its own server, else its path item's, else the first of `root`."""
    if reader.spec.is_swagger2:
        return _swagger_server(reader, op.op.value.get("schemes") or reader.root.value.get("schemes"))
    urls = _server_urls(reader, op.op) or _server_urls(reader, op.item) or root
    return urls[0] if urls else ""


def _server_urls(reader: SpecReader, holder: Located) -> list[str]:
    listed = holder.get("servers")
    servers = (
        [reader.resolver.deref(s).value for s in reader.resolver.deref(listed).elements()] if listed else []
    )
    return [_server_url(reader, s) for s in servers if isinstance(s, dict) and isinstance(s.get("url"), str)]


def _server_url(reader: SpecReader, server: dict[str, Any]) -> str:
    """The URL with each `{variable}` replaced by its default."""
    declared = server.get("variables")
    variables: dict[str, Any] = declared if isinstance(declared, dict) else {}

    def substitute(match: re.Match[str]) -> str:
        variable = variables.get(match.group(1))
        if isinstance(variable, dict) and "default" in variable:
            return str(variable["default"])
        reader.warnings.add(f"server {server['url']!r}: variable {match.group(1)!r} has no default")
        return match.group(0)

    return re.sub(r"\{([^{}]+)\}", substitute, str(server["url"]).strip())


def _swagger_server(reader: SpecReader, schemes: Any) -> str:
    """host + basePath + a scheme (https preferred; else the spec URL's own scheme)."""
    root = reader.root.value
    host = root.get("host") if isinstance(root.get("host"), str) else ""
    base_path = root.get("basePath") if isinstance(root.get("basePath"), str) else ""
    base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
    if not host:
        return base_path  # relative: the hub resolves it against the spec URL or the base URL
    listed = [s for s in schemes if isinstance(s, str)] if isinstance(schemes, list) else []
    own = reader.spec.uri.split(":", 1)[0] if reader.spec.resolver.remote else "https"
    scheme = "https" if "https" in listed else "http" if "http" in listed else own
    return f"{scheme}://{host.rstrip('/')}{base_path}"
