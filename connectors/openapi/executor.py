"""Tool call → one upstream HTTP request → MCP `CallToolResult` (as a plain dict).

Runs on every tools/call, so the operation is compiled once (`request_builder`); a call only
serialises its arguments, sends the request here (redirects and an OAuth2 retry included) and
maps the answer (`results`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from multidict import CIMultiDict

from connectors.http import (
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    Origin,
    TooManyRedirectsError,
    UpstreamError,
    UpstreamPool,
    read_capped,
    redirect_target,
)
from connectors.openapi.credentials import TokenCache, token_fetcher
from connectors.openapi.request_bodies import Body
from connectors.openapi.request_builder import ExecutableOperation, Request
from connectors.openapi.results import Answer, error_result, to_result
from connectors.openapi.serialize import ArgumentError

__all__ = ["ExecutableOperation", "OpenApiExecutor"]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_NO_CONTENT_TYPE = ("Content-Type",)


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

    async def _exchange(self, op: ExecutableOperation, request: Request) -> Answer:
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

    async def _answer(self, resp: aiohttp.ClientResponse) -> Answer:
        body, truncated = await read_capped(resp, self._max_response_bytes)
        if truncated:
            resp.close()  # the rest is never read: do not return this connection to the pool
        has_type = "Content-Type" in resp.headers
        return Answer(
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
