"""Upstream credentials: what the operator stored for an API, and how it lands on each request.

`UpstreamCredentials` is stored encrypted by the catalog and must never be logged: its repr
names only which fields are set. `plan_auth` decides once per operation what to send;
`TokenCache` fetches and caches OAuth2 client-credentials tokens for the executor.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal
from urllib.parse import parse_qsl, quote_plus, urlencode

import aiohttp
import orjson
from yarl import URL

from connectors.http import USER_AGENT, Origin, UpstreamError, UpstreamPool, describe_url, read_capped
from connectors.openapi.model import SecurityScheme
from connectors.openapi.serialize import cookie_encode, strict_encode

ClientAuth = Literal["basic", "body"]
DEFAULT_TOKEN_LIFETIME_S = 3600.0  # when the token endpoint does not say (`expires_in` missing)
_MAX_TOKEN_RESPONSE_BYTES = 64 * 1024


@dataclass(slots=True, repr=False)
class UpstreamCredentials:
    """Secrets for one API. Static headers/query always apply; the rest fill security schemes.

    `api_key` fills apiKey schemes and, when `bearer_token` is unset, http bearer schemes.
    `bearer_token` also fills oauth2/openIdConnect schemes when no client credentials are set.
    `oauth2_client_auth` says how the client authenticates at the token endpoint: HTTP Basic
    (RFC 6749 §2.3.1, the default) or `client_id`/`client_secret` in the form body.
    """

    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    api_key: str | None = None
    bearer_token: str | None = None
    basic_username: str | None = None
    basic_password: str | None = None
    oauth2_client_id: str | None = None
    oauth2_client_secret: str | None = None
    oauth2_token_url: str | None = None
    oauth2_scopes: tuple[str, ...] = ()
    oauth2_client_auth: ClientAuth = "basic"

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("headers", "query") and value:
                shown.append(f"{f.name}={sorted(value)!r}")  # names only, values are secrets
            elif f.name in ("oauth2_token_url", "oauth2_scopes", "oauth2_client_auth") and value:
                shown.append(f"{f.name}={value!r}")
            elif value and f.name not in ("headers", "query"):
                shown.append(f"{f.name}=<redacted>")
        return f"UpstreamCredentials({', '.join(shown)})"

    __str__ = __repr__

    @property
    def is_empty(self) -> bool:
        return self == UpstreamCredentials()

    def to_dict(self) -> dict[str, Any]:
        return {
            "headers": dict(self.headers),
            "query": dict(self.query),
            "api_key": self.api_key,
            "bearer_token": self.bearer_token,
            "basic_username": self.basic_username,
            "basic_password": self.basic_password,
            "oauth2_client_id": self.oauth2_client_id,
            "oauth2_client_secret": self.oauth2_client_secret,
            "oauth2_token_url": self.oauth2_token_url,
            "oauth2_scopes": list(self.oauth2_scopes),
            "oauth2_client_auth": self.oauth2_client_auth,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> UpstreamCredentials:
        """Tolerant of missing keys and nulls; unknown keys are ignored (forward compatibility)."""
        data = data or {}
        auth = data.get("oauth2_client_auth") or "basic"
        return cls(
            headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
            query={str(k): str(v) for k, v in (data.get("query") or {}).items()},
            api_key=data.get("api_key") or None,
            bearer_token=data.get("bearer_token") or None,
            basic_username=data.get("basic_username"),
            basic_password=data.get("basic_password"),
            oauth2_client_id=data.get("oauth2_client_id") or None,
            oauth2_client_secret=data.get("oauth2_client_secret") or None,
            oauth2_token_url=data.get("oauth2_token_url") or None,
            oauth2_scopes=tuple(str(s) for s in data.get("oauth2_scopes") or ()),
            oauth2_client_auth="body" if auth == "body" else "basic",
        )


@dataclass(frozen=True, slots=True)
class OAuth2Client:
    """One client-credentials grant; also the token cache key (so equal clients share a token)."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...] = ()
    client_auth: ClientAuth = "basic"


@dataclass(frozen=True, slots=True, repr=False)
class AuthPlan:
    """What one operation sends for authentication, decided once from plan + credentials.

    `headers` are (name, value) pairs with unique case-insensitive names; `query` and `cookies`
    are encoded `name=value` items. With `oauth2` set, the executor adds `Authorization: Bearer`
    from the token cache on every call.
    """

    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[str, ...] = ()
    cookies: tuple[str, ...] = ()
    oauth2: OAuth2Client | None = None

    def __repr__(self) -> str:
        names = [name for name, _ in self.headers]
        return f"AuthPlan(headers={names!r}, query={len(self.query)}, cookies={len(self.cookies)})"


def plan_auth(
    security: tuple[tuple[str, ...], ...],
    schemes: Mapping[str, SecurityScheme],
    credentials: UpstreamCredentials,
) -> AuthPlan:
    """Static headers/query, plus the first security alternative the credentials can fill."""
    headers: dict[str, str] = {}
    for name, value in credentials.headers.items():
        _set_header(headers, name, value)
    query = dict(credentials.query)
    cookies: dict[str, str] = {}
    oauth2: OAuth2Client | None = None
    for scheme in choose_alternative(security, schemes, credentials):
        oauth2 = _apply(scheme, credentials, headers, query, cookies) or oauth2
    return AuthPlan(
        headers=tuple(headers.items()),
        query=tuple(f"{strict_encode(k)}={strict_encode(v)}" for k, v in query.items()),
        cookies=tuple(f"{k}={cookie_encode(v)}" for k, v in cookies.items()),
        oauth2=oauth2,
    )


def choose_alternative(
    security: tuple[tuple[str, ...], ...],
    schemes: Mapping[str, SecurityScheme],
    credentials: UpstreamCredentials,
) -> tuple[SecurityScheme, ...]:
    """The first non-empty alternative whose schemes all have credentials.

    An empty alternative (`{}`: auth optional) is satisfied trivially; it is only taken when no
    other alternative can be filled, so stored credentials are sent when they can be.
    """
    for alternative in security:
        resolved = tuple(schemes.get(name) for name in alternative)
        if alternative and all(s is not None and _can_fill(s, credentials) for s in resolved):
            return tuple(s for s in resolved if s is not None)
    return ()


def _can_fill(scheme: SecurityScheme, creds: UpstreamCredentials) -> bool:
    if scheme.type == "apiKey":
        return bool(creds.api_key and scheme.param_name and scheme.location in ("header", "query", "cookie"))
    if scheme.type == "http":
        kind = (scheme.scheme or "").lower()
        if kind == "bearer":
            return bool(creds.bearer_token or creds.api_key)
        return kind == "basic" and bool(creds.basic_username)
    if scheme.type in ("oauth2", "openIdConnect"):
        return _oauth2_client(scheme, creds) is not None or bool(creds.bearer_token)
    return False


def _apply(
    scheme: SecurityScheme,
    creds: UpstreamCredentials,
    headers: dict[str, str],
    query: dict[str, str],
    cookies: dict[str, str],
) -> OAuth2Client | None:
    if scheme.type == "apiKey":
        assert creds.api_key is not None and scheme.param_name is not None
        if scheme.location == "query":
            query[scheme.param_name] = creds.api_key
        elif scheme.location == "cookie":
            cookies[scheme.param_name] = creds.api_key
        else:
            _set_header(headers, scheme.param_name, creds.api_key)
        return None
    if scheme.type == "http" and (scheme.scheme or "").lower() == "basic":
        _set_header(
            headers, "Authorization", basic_authorization(creds.basic_username or "", creds.basic_password)
        )
        return None
    client = _oauth2_client(scheme, creds) if scheme.type != "http" else None
    if client is None:
        _set_header(headers, "Authorization", f"Bearer {creds.bearer_token or creds.api_key}")
    return client


def _oauth2_client(scheme: SecurityScheme, creds: UpstreamCredentials) -> OAuth2Client | None:
    token_url = creds.oauth2_token_url or (scheme.token_url if scheme.type == "oauth2" else None)
    if not (creds.oauth2_client_id and creds.oauth2_client_secret and token_url):
        return None
    return OAuth2Client(
        token_url=token_url,
        client_id=creds.oauth2_client_id,
        client_secret=creds.oauth2_client_secret,
        scopes=creds.oauth2_scopes,
        client_auth=creds.oauth2_client_auth,
    )


def _set_header(headers: dict[str, str], name: str, value: str) -> None:
    """Set a header, replacing any existing one whose name differs only in case."""
    lower = name.lower()
    for existing in [k for k in headers if k.lower() == lower]:
        del headers[existing]
    headers[name] = value


def basic_authorization(username: str, password: str | None) -> str:
    raw = f"{username}:{password or ''}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


# ---------------------------------------------------------------------------------------------
# OAuth2 client credentials


class OAuth2TokenError(UpstreamError):
    """The token endpoint refused or could not be reached."""


TokenFetcher = Callable[[OAuth2Client], Awaitable[tuple[str, float | None]]]


@dataclass(slots=True)
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    token: str | None = None
    expires_at: float = 0.0


class TokenCache:
    """Access tokens per OAuth2 client: one fetch at a time per client, reused until near expiry."""

    def __init__(self, fetch: TokenFetcher, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._entries: dict[OAuth2Client, _Entry] = {}

    async def token(self, client: OAuth2Client) -> str:
        entry = self._entries.get(client)
        if entry is None:
            entry = self._entries[client] = _Entry()
        if entry.token is not None and self._clock() < entry.expires_at:
            return entry.token
        async with entry.lock:
            # Whoever held the lock before us may have fetched already (no stampede).
            if entry.token is not None and self._clock() < entry.expires_at:
                return entry.token
            token, expires_in = await self._fetch(client)
            entry.token, entry.expires_at = token, self._clock() + _usable_lifetime(expires_in)
            return token

    def invalidate(self, client: OAuth2Client, token: str) -> None:
        """Forget `token` after the upstream rejected it (only if no newer token replaced it)."""
        entry = self._entries.get(client)
        if entry is not None and entry.token == token:
            entry.token = None


def _usable_lifetime(expires_in: float | None) -> float:
    if expires_in is None:
        return DEFAULT_TOKEN_LIFETIME_S
    # Renew shortly before expiry, so a token never expires between our check and its use.
    return max(0.0, expires_in - min(60.0, expires_in * 0.1))


def token_fetcher(pool: UpstreamPool) -> TokenFetcher:
    """A TokenFetcher that posts the client-credentials grant through the guarded pool."""

    async def fetch(client: OAuth2Client) -> tuple[str, float | None]:
        return await fetch_client_credentials_token(pool, client)

    return fetch


async def fetch_client_credentials_token(
    pool: UpstreamPool, client: OAuth2Client
) -> tuple[str, float | None]:
    """POST grant_type=client_credentials; returns (access_token, expires_in)."""
    try:
        url = URL(client.token_url)
        session = pool.session(Origin.of(url))
    except ValueError as exc:
        raise OAuth2TokenError(f"invalid OAuth2 token URL: {exc}") from exc
    headers, body = _token_request(client)
    try:
        async with session.post(url, data=body, headers=headers, allow_redirects=False) as resp:
            raw, _ = await read_capped(resp, _MAX_TOKEN_RESPONSE_BYTES)
            status, reason, content_type = resp.status, resp.reason or "", resp.content_type
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise OAuth2TokenError(f"OAuth2 token request failed: {pool.translate(exc, url)}") from exc
    data = _token_response(raw, content_type)
    if not 200 <= status < 300 or not isinstance(data.get("access_token"), str):
        detail = data.get("error_description") or data.get("error") or raw[:200].decode("utf-8", "replace")
        raise OAuth2TokenError(
            f"OAuth2 token request to {describe_url(url)} failed: HTTP {status} {reason}: {detail}".rstrip(
                ": "
            )
        )
    return data["access_token"], _float_or_none(data.get("expires_in"))


def _token_request(client: OAuth2Client) -> tuple[dict[str, str], bytes]:
    form = {"grant_type": "client_credentials"}
    if client.scopes:
        form["scope"] = " ".join(client.scopes)
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": USER_AGENT,
    }
    if client.client_auth == "body":
        form["client_id"] = client.client_id
        form["client_secret"] = client.client_secret
    else:
        # RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
        headers["Authorization"] = basic_authorization(
            quote_plus(client.client_id), quote_plus(client.client_secret)
        )
    return headers, urlencode(form).encode()


def _token_response(raw: bytes, content_type: str) -> dict[str, Any]:
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode("utf-8", "replace")))
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
