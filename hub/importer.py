"""Registering an API: fetch and convert its spec, resolve where its calls go, store it atomically.

Shared by the CLI and the admin API so both give the same result and the same errors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import anyio
import anyio.from_thread
import anyio.to_thread

from catalog.store import ApiVersionInfo, CatalogStore
from connectors.http import UpstreamPool
from connectors.openapi.convert import convert
from connectors.openapi.credentials import UpstreamCredentials
from connectors.openapi.loader import load_spec
from connectors.openapi.model import ApiDef, ToolDef
from connectors.ssrf import AddressPolicy, BlockedAddressError, check_url

Progress = Callable[[str], None]


class ImportFailed(Exception):
    """The API could not be registered; the catalog is unchanged."""


@dataclass(slots=True)
class ImportRequest:
    name: str
    source: str  # file path or http(s) URL
    base_url: str | None = None
    credentials: UpstreamCredentials = field(default_factory=UpstreamCredentials)
    tenant: str = "default"


@dataclass(slots=True)
class Importer:
    store: CatalogStore
    pool: UpstreamPool
    policy: AddressPolicy
    spec_max_bytes: int

    async def run(self, request: ImportRequest, progress: Progress = lambda _msg: None) -> ApiVersionInfo:
        progress(f"loading {request.source}")
        api = await self._load(request.source)
        progress(f"converted {len(api.tools)} operations")
        api = resolve_servers(api, request.source, request.base_url, self.policy)
        check_credentials(api, request.credentials)
        progress("saving")
        return await self.store.put_api(
            request.name,
            api,
            source=request.source,
            base_url=request.base_url,
            credentials=None if request.credentials.is_empty else request.credentials.to_dict(),
            tenant=request.tenant,
        )

    async def _load(self, source: str) -> ApiDef:
        is_url = source.startswith(("http://", "https://"))
        if is_url:
            _check_public(source, self.policy)
        elif not await anyio.Path(source).is_file():
            raise ImportFailed(f"spec file not found: {source}")
        fetch = self._same_origin_fetcher(source) if is_url else None
        return await anyio.to_thread.run_sync(lambda: convert(load_spec(source, fetch_url=fetch)))

    def _same_origin_fetcher(self, spec_url: str) -> Callable[[str], bytes]:
        origin = _origin(spec_url)

        def fetch(url: str) -> bytes:
            # A spec given by URL may pull its relative parts from the same origin, nothing else.
            if _origin(url) != origin:
                raise ImportFailed(f"refusing to fetch {url}: not on the spec's origin {origin}")
            return anyio.from_thread.run(self._fetch, url)

        return fetch

    async def _fetch(self, url: str) -> bytes:
        return await self.pool.fetch_bytes(url, max_bytes=self.spec_max_bytes)


def resolve_servers(api: ApiDef, source: str, base_url: str | None, policy: AddressPolicy) -> ApiDef:
    """Make every operation's server URL absolute: the operator's base URL wins, then the spec's."""
    if base_url:
        _check_public(base_url, policy)
    spec_base = source if source.startswith(("http://", "https://")) else None
    tools = [_with_server(tool, _server_for(tool, base_url, spec_base), policy) for tool in api.tools]
    return dataclasses.replace(api, tools=tools)


def _server_for(tool: ToolDef, base_url: str | None, spec_base: str | None) -> str:
    if base_url:
        return base_url.rstrip("/")
    server = tool.plan.server_url
    if urlsplit(server).scheme in ("http", "https"):
        return server.rstrip("/")
    if spec_base:
        return urljoin(spec_base, server or "/").rstrip("/")
    raise ImportFailed(
        f"operation {tool.key} has no absolute server URL (spec says {server!r}); pass --base-url"
    )


def _with_server(tool: ToolDef, server: str, policy: AddressPolicy) -> ToolDef:
    if server != tool.plan.server_url:
        _check_public(server, policy)
        tool = dataclasses.replace(tool, plan=dataclasses.replace(tool.plan, server_url=server))
    return tool


def check_credentials(api: ApiDef, creds: UpstreamCredentials) -> None:
    """Refuse secrets no security scheme of the spec would carry: they would silently go nowhere."""
    kinds = {(s.type, (s.scheme or "").lower()) for s in api.security_schemes.values()}
    types = {kind for kind, _ in kinds}
    wanted = [
        (creds.api_key, "--api-key", "apiKey" in types or ("http", "bearer") in kinds),
        (
            creds.bearer_token,
            "--bearer-token",
            ("http", "bearer") in kinds or bool(types & {"oauth2", "openIdConnect"}),
        ),
        (creds.basic_username, "--basic", ("http", "basic") in kinds),
        (creds.oauth2_client_id, "--oauth2-client-id", "oauth2" in types or bool(creds.oauth2_token_url)),
    ]
    for value, flag, usable in wanted:
        if value and not usable:
            raise ImportFailed(
                f"{flag} given, but the spec declares no security scheme that takes it; "
                "send the secret with --header 'Name: value' instead"
            )


def _check_public(url: str, policy: AddressPolicy) -> None:
    try:
        check_url(url)
        host = urlsplit(url).hostname or ""
        policy.check_host_literal(host)
    except BlockedAddressError as exc:
        raise ImportFailed(str(exc)) from exc


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def credentials_from(
    *,
    headers: dict[str, str] | None = None,
    api_key: str | None = None,
    bearer_token: str | None = None,
    basic: str | None = None,
    oauth2_client_id: str | None = None,
    oauth2_client_secret: str | None = None,
    oauth2_token_url: str | None = None,
    oauth2_scopes: list[str] | tuple[str, ...] = (),
) -> UpstreamCredentials:
    """Upstream secrets from CLI flags or admin API fields; `basic` is 'user:password'."""
    username, password = (None, None)
    if basic is not None:
        username, sep, password = basic.partition(":")
        if not sep or not username:
            raise ImportFailed("--basic expects 'user:password'")
    return UpstreamCredentials(
        headers=dict(headers or {}),
        api_key=api_key,
        bearer_token=bearer_token,
        basic_username=username,
        basic_password=password,
        oauth2_client_id=oauth2_client_id,
        oauth2_client_secret=oauth2_client_secret,
        oauth2_token_url=oauth2_token_url,
        oauth2_scopes=tuple(oauth2_scopes),
    )


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ImportFailed(f"bad header {text!r}: expected 'Name: value'")
    return name.strip(), value.strip()
