"""An operation compiled for repeated calls: everything that depends only on the operation
(path template split, parameters grouped by location, auth decided, base headers built) is done
once in `ExecutableOperation`, so a call only serialises its arguments.

The request carries only what the plan and the stored credentials produce: arguments that are
not declared parameters or body fields are ignored, so a client's `Authorization` never reaches
an upstream unless the spec itself declares an `Authorization` header parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from multidict import CIMultiDict
from yarl import URL

from connectors.http import USER_AGENT, Origin, UpstreamError
from connectors.openapi.credentials import AuthPlan, UpstreamCredentials, plan_auth
from connectors.openapi.model import OperationPlan, ParamSpec, SecurityScheme
from connectors.openapi.request_bodies import Body, compile_body
from connectors.openapi.serialize import (
    ArgumentError,
    protect_dot_segments,
    serialize_cookie,
    serialize_header,
    serialize_path,
    serialize_query,
)

_PATH_TEMPLATE = re.compile(r"\{([^{}]+)\}")
_LITERAL_SAFE = "/:@!$&'()*+,;=-._~%"  # keep what is already valid (and escaped) in a path
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_MISSING: Any = object()


@dataclass(slots=True)
class Request:
    method: str
    url: URL
    headers: CIMultiDict[str]
    body: Body


class ExecutableOperation:
    """One operation, compiled for repeated calls. Build it once per catalog snapshot."""

    __slots__ = (
        "_auth_header_names",
        "_base_headers",
        "_base_query",
        "_body",
        "_cookie_params",
        "_header_params",
        "_path",
        "_prefix",
        "_query_params",
        "_static_cookie",
        "auth",
        "base_url",
        "has_output_schema",
        "method",
        "origin",
        "plan",
        "setup_error",
    )

    def __init__(
        self,
        plan: OperationPlan,
        base_url: str,
        security_schemes: Mapping[str, SecurityScheme],
        credentials: UpstreamCredentials,
        has_output_schema: bool = False,
    ) -> None:
        self.plan = plan
        self.base_url = base_url
        self.has_output_schema = has_output_schema
        self.method = plan.method.upper()
        self.auth: AuthPlan = plan_auth(plan.security, security_schemes, credentials)
        self.setup_error: str | None = None  # set when the operation can never be called
        self._prefix, self._base_query, self.origin = self._parse_base(base_url)
        self._path = _compile_path(plan.path, [p for p in plan.params if p.location == "path"])
        self._query_params = tuple(p for p in plan.params if p.location == "query")
        # Content-Type comes from the body spec (a multipart boundary must be ours), so a header
        # parameter of that name is ignored, as OpenAPI specifies.
        self._header_params = tuple(
            p for p in plan.params if p.location == "header" and p.name.lower() != "content-type"
        )
        self._cookie_params = tuple(p for p in plan.params if p.location == "cookie")
        self._base_headers, self._static_cookie = _base_headers(self.auth)
        self._auth_header_names = frozenset(name.lower() for name, _ in self.auth.headers)
        self._body = compile_body(plan.body) if plan.body is not None else None

    def __repr__(self) -> str:
        return f"ExecutableOperation({self.method} {self.base_url}{self.plan.path})"

    def _parse_base(self, base_url: str) -> tuple[str, str, Origin | None]:
        try:
            url = URL(base_url)
            if url.scheme not in ("http", "https") or not url.raw_host:
                raise ValueError("not an absolute http(s) URL")
            prefix = str(url.with_query(None).with_fragment(None)).rstrip("/")
            return prefix, url.raw_query_string, Origin.of(url)
        except (ValueError, UpstreamError) as exc:
            self.setup_error = f"operation has no usable server URL ({base_url!r}: {exc})"
            return "", "", None

    def build(self, args: Mapping[str, Any], token: str | None = None) -> Request:
        """The request for `args`; raises ArgumentError for arguments that cannot be sent."""
        query = self._query(args)
        url = self._prefix + self._path.render(args) + ("?" + query if query else "")
        headers = self._base_headers.copy()
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        if self._header_params:
            _add_header_params(headers, self._header_params, args)
        cookies = self._cookies(args)
        if cookies:
            headers["Cookie"] = cookies
        body: Body = None
        if self._body is not None:
            body, content_type = self._body(args)
            if content_type is not None:
                headers["Content-Type"] = content_type
        return Request(self.method, URL(url, encoded=True), headers, body)

    def _query(self, args: Mapping[str, Any]) -> str:
        items: list[str] = [self._base_query] if self._base_query else []
        items.extend(self.auth.query)
        for spec in self._query_params:
            value = args.get(spec.arg, _MISSING)
            if value is not _MISSING:
                items.extend(serialize_query(spec, value))
        return "&".join(items)

    def _cookies(self, args: Mapping[str, Any]) -> str:
        items: list[str] = [self._static_cookie] if self._static_cookie else []
        items.extend(self.auth.cookies)
        for spec in self._cookie_params:
            value = args.get(spec.arg, _MISSING)
            if value is not _MISSING:
                items.extend(serialize_cookie(spec, value))
        return "; ".join(items)

    def without_credentials(self, headers: CIMultiDict[str]) -> CIMultiDict[str]:
        """Headers for a redirect to another origin: no credential ever follows it there."""
        return CIMultiDict(
            (k, v)
            for k, v in headers.items()
            if k.lower() not in _CREDENTIAL_HEADERS and k.lower() not in self._auth_header_names
        )


class _PathTemplate:
    """The path template split once into literal text and parameter slots."""

    __slots__ = ("_parts", "_static")

    def __init__(self, parts: tuple[str | ParamSpec, ...]) -> None:
        self._parts = parts
        static = all(isinstance(p, str) for p in parts)
        self._static = "".join(p for p in parts if isinstance(p, str)) if static else None

    def render(self, args: Mapping[str, Any]) -> str:
        if self._static is not None:
            return self._static
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = args.get(part.arg, _MISSING)
            if value is _MISSING or value is None:
                raise ArgumentError(f"missing required path argument {part.arg!r}")
            out.append(serialize_path(part, value))
        return protect_dot_segments("".join(out))


def _compile_path(template: str, params: list[ParamSpec]) -> _PathTemplate:
    by_name = {p.name: p for p in params}
    if not template.startswith("/"):
        template = "/" + template
    pieces = _PATH_TEMPLATE.split(template)
    parts: list[str | ParamSpec] = []
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            if piece:
                parts.append(quote(piece, safe=_LITERAL_SAFE))
        elif piece in by_name:
            parts.append(by_name[piece])
        else:  # a template variable the spec never declared: send it literally, escaped
            parts.append(quote("{" + piece + "}", safe=""))
    return _PathTemplate(tuple(parts))


def _base_headers(auth: AuthPlan) -> tuple[CIMultiDict[str], str]:
    headers: CIMultiDict[str] = CIMultiDict({"Accept": "application/json", "User-Agent": USER_AGENT})
    static_cookie = ""
    for name, value in auth.headers:
        if name.lower() == "cookie":
            static_cookie = value  # merged with scheme and parameter cookies into one header
        else:
            headers[name] = value
    return headers, static_cookie


def _add_header_params(
    headers: CIMultiDict[str], params: tuple[ParamSpec, ...], args: Mapping[str, Any]
) -> None:
    for spec in params:
        value = args.get(spec.arg, _MISSING)
        if value is _MISSING:
            continue
        text = serialize_header(spec, value)
        if text is not None:
            headers[spec.name] = text  # a declared parameter may replace a default or credential
