"""OAuth clients of the embedded AS: redirect URI rules, registration (RFC 7591), and Client ID
Metadata Documents (a client_id that is an https URL serving the client's metadata)."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hub.auth.store import ClientRecord

FetchJson = Callable[[str], Awaitable[Any]]
LOOPBACK_NAMES = ("localhost",)
AUTH_METHODS = ("none", "client_secret_post", "client_secret_basic")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


class ClientError(Exception):
    """A client or redirect URI this AS refuses; `code` is the OAuth error code."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def is_loopback_http(uri: str) -> bool:
    parts = urlsplit(uri)
    if parts.scheme != "http" or parts.hostname is None:
        return False
    if parts.hostname in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def redirect_uri_allowed(registered: Sequence[str], given: str) -> bool:
    """Exact string match; for loopback http URIs any port (RFC 8252 §7.3: native apps pick a free
    port at run time), but scheme, host, path and query must still match exactly."""
    if given in registered:
        return True
    if not is_loopback_http(given):
        return False
    wanted = _without_port(given)
    return any(is_loopback_http(r) and _without_port(r) == wanted for r in registered)


def _without_port(uri: str) -> tuple[str, str | None, str, str]:
    parts = urlsplit(uri)
    return parts.scheme, parts.hostname, parts.path, parts.query


def check_redirect_uri(uri: str) -> None:
    """Acceptable at registration: https, loopback http, or a private-use scheme (RFC 8252 §7.1)."""
    parts = urlsplit(uri)
    if parts.fragment or not parts.scheme:
        raise ClientError("invalid_redirect_uri", f"bad redirect URI: {uri}")
    if parts.scheme == "https" and parts.hostname:
        return
    if is_loopback_http(uri):
        return
    if parts.scheme not in ("http", "https", "javascript", "data", "file") and "." in parts.scheme:
        return
    raise ClientError(
        "invalid_redirect_uri", f"redirect URI must be https, loopback http or app scheme: {uri}"
    )


@dataclass(frozen=True, slots=True)
class Registration:
    """A validated RFC 7591 request."""

    name: str | None
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    auth_method: str
    scope: str | None


def parse_registration(body: Any) -> Registration:
    if not isinstance(body, dict):
        raise ClientError("invalid_client_metadata", "registration body must be a JSON object")
    uris = body.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        raise ClientError("invalid_redirect_uri", "redirect_uris must be a non-empty list of strings")
    for uri in uris:
        check_redirect_uri(uri)
    grants = body.get("grant_types", ["authorization_code", "refresh_token"])
    if not isinstance(grants, list) or not set(grants) <= {"authorization_code", "refresh_token"}:
        # Client credentials are for clients an operator creates (`mcphub token create`), not DCR.
        raise ClientError("invalid_client_metadata", "grant_types: authorization_code, refresh_token only")
    method = body.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        raise ClientError("invalid_client_metadata", f"token_endpoint_auth_method {method!r} unsupported")
    response_types = body.get("response_types", ["code"])
    if response_types != ["code"]:
        raise ClientError("invalid_client_metadata", "response_types must be ['code']")
    scope = body.get("scope")
    name = body.get("client_name")
    return Registration(
        name=name if isinstance(name, str) else None,
        redirect_uris=tuple(uris),
        grant_types=tuple(grants),
        auth_method=method,
        scope=scope if isinstance(scope, str) else None,
    )


def is_cimd_client_id(client_id: str) -> bool:
    parts = urlsplit(client_id)
    return parts.scheme == "https" and bool(parts.hostname) and parts.path not in ("", "/")


class CimdResolver:
    """Fetches and caches Client ID Metadata Documents. Only public clients (no secrets)."""

    def __init__(self, fetch: FetchJson, ttl_s: float = 300.0, max_entries: int = 1000) -> None:
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._cache: dict[str, tuple[ClientRecord, float]] = {}

    async def resolve(self, client_id: str) -> ClientRecord:
        hit = self._cache.get(client_id)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        try:
            document = await self._fetch(client_id)
        except Exception as exc:
            raise ClientError("invalid_client", f"client metadata document unavailable: {exc}") from exc
        record = cimd_record(client_id, document)
        if len(self._cache) >= self._max_entries:
            self._cache.clear()
        self._cache[client_id] = (record, time.monotonic() + self._ttl_s)
        return record


def cimd_record(client_id: str, document: Any) -> ClientRecord:
    if not isinstance(document, dict) or document.get("client_id") != client_id:
        raise ClientError("invalid_client", "metadata document must name its own URL as client_id")
    method = document.get("token_endpoint_auth_method", "none")
    if method != "none":
        raise ClientError(
            "invalid_client", "metadata-document clients must use token_endpoint_auth_method none"
        )
    registration = parse_registration({**document, "token_endpoint_auth_method": "none"})
    return ClientRecord(
        client_id=client_id,
        kind="cimd",
        tenant=None,
        name=registration.name,
        secret_hash=None,
        auth_method="none",
        redirect_uris=registration.redirect_uris,
        grant_types=registration.grant_types,
        scope=registration.scope,
    )
