"""ASGI middleware: every request to a protected path carries a valid bearer token, or gets a 401.

The validated Principal lands in `scope["state"]["principal"]` (`request.state.principal`), and
the Authorization header is removed from the scope, so nothing downstream can forward it.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from hub.auth.challenge import Challenger
from hub.auth.principal import Principal, TokenError
from hub.auth.tokens import TokenValidator

PROTECTED_PREFIXES = ("/mcp", "/sse", "/messages", "/admin", "/v1")
ADMIN_PREFIX = "/admin"
STATE_KEY = "principal"


def is_protected(path: str, prefixes: tuple[str, ...] = PROTECTED_PREFIXES) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def principal_of(scope: Scope) -> Principal | None:
    """The request's Principal, as the middleware left it (None on unprotected paths)."""
    state: Any = scope.get("state")
    found = state.get(STATE_KEY) if isinstance(state, dict) else None
    return found if isinstance(found, Principal) else None


def bearer_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


class AuthMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        validator: TokenValidator,
        challenger: Challenger,
        admin_scope: str,
        prefixes: tuple[str, ...] = PROTECTED_PREFIXES,
    ) -> None:
        self._app = app
        self._validator = validator
        self._challenger = challenger
        self._admin_scope = admin_scope
        self._prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_protected(scope["path"], self._prefixes):
            return await self._app(scope, receive, send)
        token = bearer_token(scope["headers"])
        if token is None:
            return await self._challenger.unauthorized(send, None)
        try:
            principal = await self._validator.validate(token)
        except TokenError as exc:
            return await self._challenger.unauthorized(send, str(exc))
        if is_protected(scope["path"], (ADMIN_PREFIX,)) and self._admin_scope not in principal.scopes:
            return await self._challenger.insufficient_scope(send, {self._admin_scope})
        state = scope.setdefault("state", {})
        state[STATE_KEY] = principal
        headers = [h for h in scope["headers"] if h[0] != b"authorization"]
        await self._app({**scope, "headers": headers}, receive, send)
