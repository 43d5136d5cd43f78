"""`mcphub` command line: serve the hub and manage its catalog."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from hub.config import LOOPBACK_HOSTS, HubSettings, load_settings

EXIT_USAGE = 2
EXIT_FAILED = 1


def main(argv: Sequence[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        sys.exit(EXIT_USAGE)
    try:
        settings = load_settings(args.config, data_dir=args.data_dir, **_flag_overrides(args))
    except (OSError, ValueError) as exc:
        _fail(f"bad configuration: {exc}")
    sys.exit(args.run(settings, args) or 0)


def _flag_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if getattr(args, "insecure_no_auth", False):
        overrides["insecure_no_auth"] = True
    server = {
        k: v for k, v in (("host", getattr(args, "host", None)), ("port", getattr(args, "port", None))) if v
    }
    if server:
        overrides["server"] = server
    return overrides


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, help="data directory (default ./data, or MCPHUB_DATA_DIR)")
    common.add_argument("--config", type=Path, help="YAML or TOML config file")

    parser = argparse.ArgumentParser(
        prog="mcphub", description="MCP hub: OpenAPI and MCP tools for AI agents"
    )
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser("serve", parents=[common], help="run the hub server")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument(
        "--insecure-no-auth", action="store_true", help="development mode without auth (loopback only)"
    )
    serve.set_defaults(run=_serve)

    api = commands.add_parser("api", help="register and manage OpenAPI specs").add_subparsers(
        title="api commands"
    )
    add = api.add_parser("add", parents=[common], help="register a spec (re-adding replaces it atomically)")
    add.add_argument("name")
    add.add_argument("spec", help="spec file path or http(s) URL")
    add.add_argument("--base-url", help="upstream base URL (overrides the spec's servers)")
    add.add_argument(
        "--header", action="append", default=[], help="'Name: value' sent upstream on every call"
    )
    add.add_argument("--api-key", help="secret for the spec's apiKey (or http bearer) security scheme")
    add.add_argument("--bearer-token", help="token for the spec's http bearer / oauth2 scheme")
    add.add_argument("--basic", metavar="USER:PASSWORD", help="credentials for the spec's http basic scheme")
    add.add_argument("--oauth2-client-id", help="OAuth2 client-credentials grant: client id")
    add.add_argument("--oauth2-client-secret", help="OAuth2 client-credentials grant: client secret")
    add.add_argument("--oauth2-token-url", help="token endpoint (default: the spec's clientCredentials flow)")
    add.add_argument("--oauth2-scope", action="append", default=[], help="scope to request (repeatable)")
    add.add_argument("--tenant", default="default", help="tenant that owns the API (default: default)")
    add.set_defaults(run=_api_add)
    lst = api.add_parser("list", parents=[common], help="list registered APIs")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(run=_api_list)
    rm = api.add_parser("remove", parents=[common], help="remove an API and its tools")
    rm.add_argument("name")
    rm.set_defaults(run=_api_remove)

    tools = commands.add_parser("tools", help="inspect the tool catalog").add_subparsers(
        title="tools commands"
    )
    tl = tools.add_parser("list", parents=[common], help="list tools")
    tl.add_argument("--api", help="only this API's tools")
    tl.add_argument("--json", action="store_true")
    tl.set_defaults(run=_tools_list)

    from hub.auth.cli import add_auth_commands

    add_auth_commands(commands, common)
    return parser


def _fail(message: str, code: int = EXIT_FAILED) -> Any:
    print(f"mcphub: {message}", file=sys.stderr)
    sys.exit(code)


def _serve(settings: HubSettings, args: argparse.Namespace) -> int:
    import uvicorn

    from hub.app import ConfigError, create_app
    from hub.log import configure_logging

    if settings.insecure_no_auth and not _is_loopback(settings.server.host):
        _fail(
            f"--insecure-no-auth refuses to bind {settings.server.host}: use a loopback address", EXIT_USAGE
        )
    configure_logging(settings.log_level, settings.log_format)
    try:
        app = create_app(settings)
    except ConfigError as exc:
        _fail(str(exc), EXIT_USAGE)
    uvicorn.run(
        app,
        host=settings.server.host,
        port=settings.server.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    return 0


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _with_catalog(settings: HubSettings, work: Callable[[Any], Awaitable[int]]) -> int:
    from hub.catalog_cli import open_catalog

    async def run() -> int:
        async with open_catalog(settings) as catalog:
            return await work(catalog)

    return asyncio.run(run())


def _api_add(settings: HubSettings, args: argparse.Namespace) -> int:
    from hub.catalog_cli import add_api

    return _with_catalog(settings, lambda c: add_api(c, args))


def _api_list(settings: HubSettings, args: argparse.Namespace) -> int:
    from hub.catalog_cli import list_apis

    return _with_catalog(settings, lambda c: list_apis(c, as_json=args.json))


def _api_remove(settings: HubSettings, args: argparse.Namespace) -> int:
    from hub.catalog_cli import remove_api

    return _with_catalog(settings, lambda c: remove_api(c, args.name))


def _tools_list(settings: HubSettings, args: argparse.Namespace) -> int:
    from hub.catalog_cli import list_tools

    return _with_catalog(settings, lambda c: list_tools(c, api=args.api, as_json=args.json))


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")
