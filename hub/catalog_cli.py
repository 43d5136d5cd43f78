"""The catalog commands of the CLI; they write the same database a running hub polls."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from catalog.crypto import load_or_create_key
from catalog.db import create_engine
from catalog.migrate import migrate
from catalog.snapshot import build_snapshot
from catalog.store import CatalogError, CatalogStore
from connectors.http import UpstreamError, UpstreamPool
from connectors.openapi.errors import SpecError
from connectors.ssrf import AddressPolicy
from hub.cli import print_json
from hub.config import HubSettings
from hub.importer import Importer, ImportFailed, ImportRequest, credentials_from, parse_header
from hub.jsonable import to_json


@dataclass(slots=True)
class CatalogAccess:
    store: CatalogStore
    importer: Importer


@contextlib.asynccontextmanager
async def open_catalog(settings: HubSettings) -> AsyncIterator[CatalogAccess]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await migrate(settings.resolved_database_url)
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    store = CatalogStore(
        create_engine(settings.resolved_database_url), load_or_create_key(settings.data_dir, secret)
    )
    policy = AddressPolicy(settings.network.allow_private)
    pool = UpstreamPool(
        policy,
        connect_timeout_s=settings.upstream.connect_timeout_s,
        timeout_s=settings.upstream.timeout_s,
        max_connections_per_upstream=4,
    )
    try:
        yield CatalogAccess(store, Importer(store, pool, policy, settings.network.spec_fetch_max_bytes))
    finally:
        await pool.aclose()
        await store.aclose()


async def add_api(catalog: CatalogAccess, args: argparse.Namespace) -> int:
    started, on_terminal = time.perf_counter(), sys.stderr.isatty()

    def progress(message: str) -> None:
        if on_terminal:
            print(f"[{time.perf_counter() - started:5.1f}s] {message}", file=sys.stderr)

    try:
        credentials = credentials_from(
            headers=dict(parse_header(h) for h in args.header),
            api_key=args.api_key,
            bearer_token=args.bearer_token,
            basic=args.basic,
            oauth2_client_id=args.oauth2_client_id,
            oauth2_client_secret=args.oauth2_client_secret,
            oauth2_token_url=args.oauth2_token_url,
            oauth2_scopes=args.oauth2_scope,
        )
        request = ImportRequest(args.name, args.spec, args.base_url, credentials, tenant=args.tenant)
        info = await catalog.importer.run(request, progress)
    except (ImportFailed, SpecError, CatalogError, UpstreamError) as exc:
        print(f"mcphub: import of {args.name!r} failed, catalog unchanged: {exc}", file=sys.stderr)
        return 1
    data = to_json(info)
    print(f"registered {args.name} version {data.get('version')} with {data.get('tool_count')} tools")
    return 0


async def list_apis(catalog: CatalogAccess, *, as_json: bool) -> int:
    apis = to_json(await catalog.store.list_apis())
    if as_json:
        print_json(apis)
        return 0
    for api in apis:
        print(f"{api['name']}\tv{api.get('version')}\t{api.get('tool_count')} tools\t{api.get('source')}")
    return 0


async def remove_api(catalog: CatalogAccess, name: str) -> int:
    if not await catalog.store.remove_api(name):
        print(f"mcphub: no API named {name!r}", file=sys.stderr)
        return 1
    print(f"removed {name}")
    return 0


async def list_tools(catalog: CatalogAccess, *, api: str | None, as_json: bool) -> int:
    snapshot = build_snapshot(await catalog.store.load_catalog(), await catalog.store.revision())
    tools = [t for t in snapshot.tools if api is None or t.api.name == api]
    if as_json:
        print_json(
            [{"name": t.name, "api": t.api.name, "key": t.key, "description": t.description} for t in tools]
        )
        return 0
    for tool in tools:
        print(f"{tool.name}\t{tool.key}")
    return 0
