"""`mcphub user add`, `mcphub token create`, `mcphub client list|revoke`.

Wire in with `add_auth_commands(commands, common)` from hub/cli.py's `_parser()`; each command's
`run(settings, args)` returns the exit code, like the catalog commands.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from catalog.db import create_engine
from catalog.migrate import migrate
from hub.auth.issuing import TokenIssuer
from hub.auth.keys import load_keys
from hub.auth.layer import RESOURCE_PATH
from hub.auth.passwords import hash_password
from hub.auth.store import AuthStore, AuthStoreError, ClientRecord, UserRecord

_TTL = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def add_auth_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    user = commands.add_parser("user", help="manage login users").add_subparsers(title="user commands")
    add = user.add_parser("add", parents=[common], help="add a user (password read from stdin)")
    add.add_argument("name")
    add.add_argument("--tenant", default="default")
    add.add_argument("--admin", action="store_true")
    add.set_defaults(run=_user_add)

    token = commands.add_parser("token", help="issue access tokens").add_subparsers(title="token commands")
    create = token.add_parser("create", parents=[common], help="print an access token for a client")
    create.add_argument("--client", required=True)
    create.add_argument("--tenant", default="default")
    create.add_argument("--scope", required=True, help='space-separated, e.g. "pets:read pets:write"')
    create.add_argument("--ttl", default="1h", help="lifetime: 3600, 90s, 15m, 1h, 7d")
    create.set_defaults(run=_token_create)

    client = commands.add_parser("client", help="OAuth clients").add_subparsers(title="client commands")
    lst = client.add_parser("list", parents=[common], help="list clients")
    lst.set_defaults(run=_client_list)
    revoke = client.add_parser("revoke", parents=[common], help="refuse a client's tokens from now on")
    revoke.add_argument("client_id")
    revoke.set_defaults(run=_client_revoke)


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


def public_url(settings: Any) -> str:
    configured: str | None = settings.auth.public_url
    return (configured or f"http://{settings.server.host}:{settings.server.port}").rstrip("/")
