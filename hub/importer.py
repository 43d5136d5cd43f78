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
    headers: dict[str, str] = field(default_factory=dict)
    api_key: str | None = None
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
        credentials = build_credentials(api, request.headers, request.api_key)
        progress("saving")
        return await self.store.put_api(
            request.name,
            api,
            source=request.source,
            base_url=request.base_url,
            credentials=credentials.to_dict(),
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


def build_credentials(api: ApiDef, headers: dict[str, str], api_key: str | None) -> UpstreamCredentials:
    if api_key and not any(_takes_single_secret(s.type, s.scheme) for s in api.security_schemes.values()):
        raise ImportFailed(
            "--api-key given, but the spec declares no apiKey or bearer security scheme; "
            "send the key with --header 'Name: value' instead"
        )
    return UpstreamCredentials(headers=dict(headers), api_key=api_key)


def _takes_single_secret(scheme_type: str, http_scheme: str | None) -> bool:
    return scheme_type == "apiKey" or (scheme_type == "http" and (http_scheme or "").lower() == "bearer")


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


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ImportFailed(f"bad header {text!r}: expected 'Name: value'")
    return name.strip(), value.strip()
