"""The `user`, `token` and `client` commands' work; hub/auth/cli.py only parses (and imports this lazily)."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from catalog.db import create_engine
from catalog.migrate import migrate
from hub.auth.cli import public_url
from hub.auth.issuing import TokenIssuer
from hub.auth.keys import load_keys
from hub.auth.layer import RESOURCE_PATH
from hub.auth.passwords import hash_password
from hub.auth.store import AuthStore, AuthStoreError, ClientRecord, UserRecord

_TTL = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> int:
    match = _TTL.match(text.strip())
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"bad --ttl {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _with_store(settings: Any, work: Callable[[AuthStore], Awaitable[int]]) -> int:
    async def run() -> int:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await migrate(settings.resolved_database_url)
        engine = create_engine(settings.resolved_database_url)
        try:
            return await work(AuthStore(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _user_add(settings: Any, args: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        print("mcphub: the password (from stdin) needs at least 8 characters", file=sys.stderr)
        return 1
    record = UserRecord(args.name, args.tenant, hash_password(password), args.admin)

    async def work(store: AuthStore) -> int:
        try:
            await store.add_user(record)
        except AuthStoreError as exc:
            print(f"mcphub: {exc}", file=sys.stderr)
            return 1
        return 0

    return _with_store(settings, work)


def _token_create(settings: Any, args: argparse.Namespace) -> int:
    ttl = parse_ttl(args.ttl)
    base = public_url(settings)
    key = load_keys(settings.data_dir)[0]
    client = ClientRecord(args.client, "cli", args.tenant, args.client, None, "none", (), (), args.scope)

    async def work(store: AuthStore) -> int:
        existing = await store.get_client(args.client)
        if existing is None:
            await store.add_client(client)
        elif existing.revoked_at is not None or existing.tenant != args.tenant:
            print("mcphub: that client is revoked or belongs to another tenant", file=sys.stderr)
            return 1
        issuer = TokenIssuer(base, key, ttl)
        token = issuer.access_token(
            subject=args.client,
            client_id=args.client,
            tenant=args.tenant,
            scopes=args.scope.split(),
            audience=base + RESOURCE_PATH,
        )
        print(token)
        return 0

    return _with_store(settings, work)


def _client_list(settings: Any, args: argparse.Namespace) -> int:
    async def work(store: AuthStore) -> int:
        for c in await store.list_clients():
            state = "revoked" if c.revoked_at else "active"
            print(f"{c.client_id}\t{c.kind}\t{c.tenant or '-'}\t{state}\t{c.name or ''}")
        return 0

    return _with_store(settings, work)


def _client_revoke(settings: Any, args: argparse.Namespace) -> int:
    async def work(store: AuthStore) -> int:
        if not await store.revoke_client(args.client_id):
            print(f"mcphub: no active client {args.client_id!r}", file=sys.stderr)
            return 1
        return 0

    return _with_store(settings, work)
