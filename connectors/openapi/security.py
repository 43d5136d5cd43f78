"""Security schemes (3.x `securitySchemes`, 2.0 `securityDefinitions`) and what operations require."""

from __future__ import annotations

from typing import Any, cast

from connectors.openapi.model import ParamLocation, SecurityScheme
from connectors.openapi.spec_reader import PathOperation, SpecReader


def security_schemes(reader: SpecReader) -> dict[str, SecurityScheme]:
    if reader.spec.is_swagger2:
        container = reader.root.get("securityDefinitions")
    else:
        components = reader.root.get("components")
        container = reader.resolver.deref(components).get("securitySchemes") if components else None
    schemes = {}
    for name, loc in reader.resolver.deref(container).items() if container else ():
        value = reader.resolver.deref(loc).value
        if isinstance(value, dict):
            schemes[name] = _security_scheme(name, value)
    return schemes


def requirements(reader: SpecReader, op: PathOperation) -> list[dict[str, Any]]:
    """The operation's security requirements (else the root's; an explicit [] means none)."""
    holder = op.op.value if "security" in op.op.value else reader.root.value
    listed = holder.get("security")
    return [r for r in listed if isinstance(r, dict)] if isinstance(listed, list) else []


def scheme_sets(requirements: list[dict[str, Any]]) -> tuple[tuple[str, ...], ...]:
    """OR-list of AND-sets of scheme names; `{}` (anonymous allowed) stays as an empty set."""
    return tuple(tuple(str(name) for name in requirement) for requirement in requirements)


def required_scopes(
    requirements: list[dict[str, Any]], schemes: dict[str, SecurityScheme]
) -> tuple[str, ...]:
    """Scopes the oauth2/openIdConnect requirements list, sorted and de-duplicated."""
    scopes: set[str] = set()
    for requirement in requirements:
        for name, listed in requirement.items():
            scheme = schemes.get(str(name))
            if scheme and scheme.type in ("oauth2", "openIdConnect") and isinstance(listed, list):
                scopes.update(s for s in listed if isinstance(s, str))
    return tuple(sorted(scopes))


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
