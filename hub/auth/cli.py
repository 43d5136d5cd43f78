"""`mcphub user add`, `mcphub token create`, `mcphub client list|revoke`: argument parsing.

The commands' work lives in hub/auth/commands.py and is imported only when one of them runs, so
every other CLI command starts without loading the auth server side.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any


def add_auth_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    user = commands.add_parser("user", help="manage login users").add_subparsers(title="user commands")
    add = user.add_parser("add", parents=[common], help="add a user (password read from stdin)")
    add.add_argument("name")
    add.add_argument("--tenant", default="default")
    add.add_argument("--admin", action="store_true")
    add.set_defaults(run=_lazy("user_add"))

    token = commands.add_parser("token", help="issue access tokens").add_subparsers(title="token commands")
    create = token.add_parser("create", parents=[common], help="print an access token for a client")
    create.add_argument("--client", required=True)
    create.add_argument("--tenant", default="default")
    create.add_argument("--scope", required=True, help='space-separated, e.g. "pets:read pets:write"')
    create.add_argument("--ttl", default="1h", help="lifetime: 3600, 90s, 15m, 1h, 7d")
    create.set_defaults(run=_lazy("token_create"))

    client = commands.add_parser("client", help="OAuth clients").add_subparsers(title="client commands")
    lst = client.add_parser("list", parents=[common], help="list clients")
    lst.set_defaults(run=_lazy("client_list"))
    revoke = client.add_parser("revoke", parents=[common], help="refuse a client's tokens from now on")
    revoke.add_argument("client_id")
    revoke.set_defaults(run=_lazy("client_revoke"))


def _lazy(name: str) -> Callable[[Any, argparse.Namespace], int]:
    def run(settings: Any, args: argparse.Namespace) -> int:
        command: Callable[[Any, argparse.Namespace], int] = getattr(
            importlib.import_module("hub.auth.commands"), f"_{name}"
        )
        return command(settings, args)

    return run


def public_url(settings: Any) -> str:
    configured: str | None = settings.auth.public_url
    return (configured or f"http://{settings.server.host}:{settings.server.port}").rstrip("/")
