"""Discovery documents: RFC 9728 protected-resource metadata and RFC 8414 AS metadata."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from hub.auth import server as paths

PRM_PREFIX = "/.well-known/oauth-protected-resource"
AS_METADATA_PATH = "/.well-known/oauth-authorization-server"


def prm_url(resource: str) -> str:
    """RFC 9728 §3.1: the well-known segment goes between host and the resource's path."""
    parts = urlsplit(resource)
    return f"{parts.scheme}://{parts.netloc}{PRM_PREFIX}{parts.path.rstrip('/')}"


def protected_resource_metadata(
    resource: str, authorization_servers: Sequence[str], scopes: Sequence[str]
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "resource": resource,
        "authorization_servers": list(authorization_servers),
        "bearer_methods_supported": ["header"],
        "resource_name": "mcphub",
    }
    if scopes:
        document["scopes_supported"] = list(scopes)
    return document


def authorization_server_metadata(
    issuer: str, scopes: Sequence[str], *, dcr: bool, cimd: bool
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": issuer + paths.AUTHORIZE_PATH,
        "token_endpoint": issuer + paths.TOKEN_PATH,
        "jwks_uri": issuer + paths.JWKS_PATH,
        "revocation_endpoint": issuer + paths.REVOKE_PATH,
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "client_id_metadata_document_supported": cimd,
    }
    if dcr:
        document["registration_endpoint"] = issuer + paths.REGISTER_PATH
    if scopes:
        document["scopes_supported"] = list(scopes)
    return document


def metadata_routes(
    resource: str, prm: dict[str, Any], as_metadata: dict[str, Any] | None
) -> list[BaseRoute]:
    async def serve_prm(request: Request) -> Response:
        return JSONResponse(prm, headers={"Cache-Control": "public, max-age=300"})

    resource_path = urlsplit(resource).path.rstrip("/")
    # Path form (RFC 9728) and the root form some clients try first.
    routes: list[BaseRoute] = [Route(PRM_PREFIX, serve_prm, methods=["GET"])]
    if resource_path:
        routes.append(Route(PRM_PREFIX + resource_path, serve_prm, methods=["GET"]))
    if as_metadata is not None:

        async def serve_as(request: Request) -> Response:
            return JSONResponse(as_metadata, headers={"Cache-Control": "public, max-age=300"})

        routes.append(Route(AS_METADATA_PATH, serve_as, methods=["GET"]))
    return routes
