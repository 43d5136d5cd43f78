"""Tool call → one upstream HTTP request → MCP `CallToolResult` (as a plain dict).

Runs on every tools/call, so everything that depends only on the operation is compiled once in
`ExecutableOperation` (path template split, parameters grouped by location, auth decided,
base headers built); a call only serialises its arguments and reads the answer.

The request carries only what the plan and the stored credentials produce: arguments that are
not declared parameters or body fields are ignored, so a client's `Authorization` never reaches
an upstream unless the spec itself declares an `Authorization` header parameter.

Binary values (multipart parts with `FieldEncoding.binary`, whole bodies with `BodySpec.binary`)
arrive as strings: base64 (as the converter's schemas ask for), optionally prefixed `base64:`, or a
`data:...;base64,` URL. A string that is not valid base64 is sent as its UTF-8 text, so plain-text
files work too. For other non-text media types only an explicit `base64:` prefix is decoded.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from multidict import CIMultiDict
from yarl import URL

from connectors.http import (
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    USER_AGENT,
    Origin,
    TooManyRedirectsError,
    UpstreamError,
    UpstreamPool,
    read_capped,
    redirect_target,
)
from connectors.openapi.credentials import (
    AuthPlan,
    TokenCache,
    UpstreamCredentials,
    plan_auth,
    token_fetcher,
)
from connectors.openapi.model import BodySpec, FieldEncoding, OperationPlan, ParamSpec, SecurityScheme
from connectors.openapi.serialize import (
    ArgumentError,
    delimited_text,
    json_bytes,
    json_text,
    protect_dot_segments,
    scalar_text,
    serialize_cookie,
    serialize_form_field,
    serialize_header,
    serialize_path,
    serialize_query,
)

BASE64_PREFIX = "base64:"
ERROR_SNIPPET_CHARS = 500
_PATH_TEMPLATE = re.compile(r"\{([^{}]+)\}")
_LITERAL_SAFE = "/:@!$&'()*+,;=-._~%"  # keep what is already valid (and escaped) in a path
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_TEXT_TYPES = frozenset(
    {
        "application/xml",
        "application/javascript",
        "application/ecmascript",
        "application/x-www-form-urlencoded",
        "application/yaml",
        "application/x-yaml",
        "application/graphql",
        "application/sql",
        "application/x-ndjson",
        "application/csv",
    }
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_NO_CONTENT_TYPE = ("Content-Type",)
_MISSING: Any = object()

Body = bytes | Callable[[], aiohttp.FormData] | None
BodyBuilder = Callable[[Mapping[str, Any]], tuple[Body, str | None]]


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
        self._body = _compile_body(plan.body) if plan.body is not None else None

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

    def build(self, args: Mapping[str, Any], token: str | None = None) -> _Request:
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
        return _Request(self.method, URL(url, encoded=True), headers, body)

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


@dataclass(slots=True)
class _Request:
    method: str
    url: URL
    headers: CIMultiDict[str]
    body: Body


@dataclass(slots=True)
class _Answer:
    status: int
    reason: str
    media_type: str | None  # lower-case main type, None when the upstream sent no Content-Type
    charset: str | None
    body: bytes
    truncated: bool


class OpenApiExecutor:
    """Sends compiled operations through the pool and maps answers onto MCP results."""

    def __init__(
        self, pool: UpstreamPool, *, max_response_bytes: int, tokens: TokenCache | None = None
    ) -> None:
        self._pool = pool
        self._max_response_bytes = max_response_bytes
        self._tokens = tokens if tokens is not None else TokenCache(token_fetcher(pool))

    async def call(self, op: ExecutableOperation, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Never raises for upstream or argument problems: those become `isError` results."""
        if op.setup_error is not None or op.origin is None:
            return error_result(op.setup_error or "operation has no server URL")
        client = op.auth.oauth2
        try:
            token = await self._tokens.token(client) if client is not None else None
            answer = await self._exchange(op, op.build(arguments, token))
            if answer.status == 401 and client is not None and token is not None:
                # The token may have been revoked or expired early: fetch a new one, retry once.
                self._tokens.invalidate(client, token)
                token = await self._tokens.token(client)
                answer = await self._exchange(op, op.build(arguments, token))
        except (UpstreamError, ArgumentError) as exc:
            return error_result(str(exc))
        return to_result(answer, structured=op.has_output_schema, limit=self._max_response_bytes)

    async def _exchange(self, op: ExecutableOperation, request: _Request) -> _Answer:
        assert op.origin is not None
        origin, url, method = op.origin, request.url, request.method
        headers, body = request.headers, request.body
        for _ in range(MAX_REDIRECTS + 1):
            session = self._pool.session(origin)
            try:
                data = body() if callable(body) else body
                # Without this aiohttp labels an empty POST/PUT/PATCH application/octet-stream.
                skip = _NO_CONTENT_TYPE if data is None and method in _BODY_METHODS else None
                async with session.request(
                    method, url, headers=headers, data=data, allow_redirects=False, skip_auto_headers=skip
                ) as resp:
                    target = redirect_target(resp, url) if resp.status in REDIRECT_STATUSES else None
                    if target is None:
                        return await self._answer(resp)
                    status = resp.status
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
                # ValueError: aiohttp refusing something it cannot encode (e.g. a header value).
                raise self._pool.translate(exc, url) from exc
            method, body, headers = _follow(status, method, body, headers)
            next_origin = Origin.of(target)
            if next_origin != origin:
                headers = op.without_credentials(headers)
                origin = next_origin
            url = target
        raise TooManyRedirectsError(f"more than {MAX_REDIRECTS} redirects for {op.method} {op.plan.path}")

    async def _answer(self, resp: aiohttp.ClientResponse) -> _Answer:
        body, truncated = await read_capped(resp, self._max_response_bytes)
        if truncated:
            resp.close()  # the rest is never read: do not return this connection to the pool
        has_type = "Content-Type" in resp.headers
        return _Answer(
            resp.status,
            resp.reason or "",
            resp.content_type.lower() if has_type else None,
            resp.charset if has_type else None,
            body,
            truncated,
        )


def _follow(
    status: int, method: str, body: Body, headers: CIMultiDict[str]
) -> tuple[str, Body, CIMultiDict[str]]:
    """Method and body for the next hop (RFC 9110 §15.4, as browsers do for 301/302 after POST)."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        headers = headers.copy()
        headers.popall("Content-Type", None)
        return "GET", None, headers
    return method, body, headers


# ---------------------------------------------------------------------------------------------
# compiling an operation


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


# ---------------------------------------------------------------------------------------------
# request bodies


def _compile_body(spec: BodySpec) -> BodyBuilder:
    media = _main_type(spec.media_type)
    if _is_json(media):
        content_type = spec.media_type if "*" not in media else "application/json"
        return lambda args: _json_body(spec, content_type, args)
    if media == "application/x-www-form-urlencoded":
        return lambda args: _form_body(spec, args)
    if media.startswith("multipart/"):
        return lambda args: _multipart_body(spec, args)
    content_type = spec.media_type if "*" not in media else "application/octet-stream"
    prefixed_only = not spec.binary and not _is_text(media)
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
        return (b"", "application/x-www-form-urlencoded") if spec.required else (None, None)
    if isinstance(value, str):
        return value.encode(), "application/x-www-form-urlencoded"
    if not isinstance(value, dict):
        raise ArgumentError("a form body must be an object")
    items = [
        item for prop, v in value.items() for item in serialize_form_field(prop, v, spec.encoding.get(prop))
    ]
    return "&".join(items).encode(), "application/x-www-form-urlencoded"


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


_Part = tuple[str, str | bytes, str | None, str | None]  # name, data, content type, filename


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
    if enc.content_type is not None and _is_json(_main_type(enc.content_type)):
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


# ---------------------------------------------------------------------------------------------
# responses


def error_result(message: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": message}], "isError": True}


def to_result(answer: _Answer, *, structured: bool, limit: int) -> dict[str, Any]:
    """Map an upstream answer onto a CallToolResult dict."""
    ok = 200 <= answer.status < 300
    kind = _kind(answer)
    parsed: Any = _MISSING
    if kind == "json" and not answer.truncated:
        try:
            parsed = orjson.loads(_json_input(answer))
        except (orjson.JSONDecodeError, UnicodeDecodeError, LookupError):
            kind = "text"
    if not ok:
        return error_result(_status_line(answer) + _error_detail(answer, kind, parsed))
    if kind == "image" and not answer.truncated and answer.body:
        data = base64.b64encode(answer.body).decode("ascii")
        return {"content": [{"type": "image", "data": data, "mimeType": answer.media_type}], "isError": False}
    result: dict[str, Any] = {
        "content": [{"type": "text", "text": _success_text(answer, kind, parsed, limit)}]
    }
    if structured and isinstance(parsed, dict):
        result["structuredContent"] = parsed
    result["isError"] = False
    return result


def _success_text(answer: _Answer, kind: str, parsed: Any, limit: int) -> str:
    if not answer.body:
        return _status_line(answer) + " (empty body)"
    if parsed is not _MISSING:
        return orjson.dumps(parsed).decode()
    if kind in ("json", "text"):
        text = _decode(answer)
    else:
        size = f"more than {limit}" if answer.truncated else str(len(answer.body))
        return f"[binary response: {answer.media_type or 'unknown type'}, {size} bytes, not shown]"
    if answer.truncated:
        text += f"\n[truncated: response exceeded {limit} bytes]"
    return text


def _error_detail(answer: _Answer, kind: str, parsed: Any) -> str:
    if not answer.body:
        return ""
    if parsed is not _MISSING:
        text = orjson.dumps(parsed).decode()
    elif kind in ("json", "text"):
        text = _decode(answer)
    else:
        return f": [{answer.media_type or 'binary'} body, {len(answer.body)} bytes]"
    text = text.strip()
    if len(text) > ERROR_SNIPPET_CHARS:
        text = text[:ERROR_SNIPPET_CHARS] + "…"
    return f": {text}" if text else ""


def _json_input(answer: _Answer) -> bytes | str:
    charset = answer.charset
    if charset is None or charset.lower() in ("utf-8", "utf8"):
        return answer.body  # orjson reads UTF-8 bytes directly
    return answer.body.decode(charset)


def _status_line(answer: _Answer) -> str:
    reason = answer.reason
    if not reason:
        try:
            reason = HTTPStatus(answer.status).phrase
        except ValueError:
            reason = ""
    return f"HTTP {answer.status} {reason}".rstrip()


def _decode(answer: _Answer) -> str:
    try:
        return answer.body.decode(answer.charset or "utf-8", "replace")
    except LookupError:  # an unknown charset name
        return answer.body.decode("utf-8", "replace")


def _kind(answer: _Answer) -> str:
    media = answer.media_type
    if media is None:
        # No Content-Type: text if it decodes as UTF-8 (a cut at the truncation point is fine).
        try:
            answer.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            cut_char = answer.truncated and exc.start >= len(answer.body) - 3
            return "text" if cut_char else "binary"
        return "text"
    if _is_json(media):
        return "json"
    if _is_text(media):
        return "text"
    if media.startswith("image/"):
        return "image"
    return "binary"


def _main_type(media_type: str) -> str:
    return media_type.split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json") or media == "application/*"


def _is_text(media: str) -> bool:
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+xml", "+yaml"))
