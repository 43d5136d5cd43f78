"""401/403 answers with RFC 6750 / RFC 9728 `WWW-Authenticate` challenges."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from starlette.types import Send


class Challenger:
    def __init__(self, resource_metadata_url: str, default_scopes: Iterable[str]) -> None:
        self.resource_metadata_url = resource_metadata_url
        self._default_scope = " ".join(default_scopes)

    async def unauthorized(self, send: Send, description: str | None) -> None:
        """401. No `error` when no token was sent at all (RFC 6750 §3.1)."""
        params = [("resource_metadata", self.resource_metadata_url)]
        if self._default_scope:
            params.append(("scope", self._default_scope))
        body: dict[str, str] = {"error": "unauthorized"}
        if description is not None:
            params[:0] = [("error", "invalid_token"), ("error_description", description)]
            body = {"error": "invalid_token", "error_description": description}
        await _send(send, 401, params, body)

    async def insufficient_scope(self, send: Send, scopes: Iterable[str]) -> None:
        scope = " ".join(sorted(scopes))
        params = [
            ("error", "insufficient_scope"),
            ("scope", scope),
            ("resource_metadata", self.resource_metadata_url),
            ("error_description", f"this request needs the scope(s): {scope}"),
        ]
        body = {"error": "insufficient_scope", "error_description": f"this request needs: {scope}"}
        await _send(send, 403, params, body)


def www_authenticate(params: Iterable[tuple[str, str]]) -> str:
    return "Bearer " + ", ".join(f'{name}="{_quotable(value)}"' for name, value in params)


def _quotable(value: str) -> str:
    # A quoted-string may not hold '"' or '\' unescaped; none of our values needs them.
    return "".join(c for c in value if c not in '"\\' and c.isprintable())


async def _send(send: Send, status: int, params: list[tuple[str, str]], body: dict[str, str]) -> None:
    payload = orjson.dumps(body)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"www-authenticate", www_authenticate(params).encode("latin-1", "replace")),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
