"""`build_auth`: everything the hub needs for OAuth, assembled from AuthSettings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from hub.auth.challenge import Challenger
from hub.auth.clients import CimdResolver
from hub.auth.guard import ToolCallGuard, ToolLookup
from hub.auth.issuing import ACCESS_TOKEN_TYP, TENANT_CLAIM, TokenIssuer
from hub.auth.jwks import FetchJson, LocalKeys, RemoteJwks
from hub.auth.keys import ALGORITHM, load_keys
from hub.auth.metadata import (
    authorization_server_metadata,
    metadata_routes,
    prm_url,
    protected_resource_metadata,
)
from hub.auth.middleware import AuthMiddleware
from hub.auth.server import AuthServer, ServerPolicy
from hub.auth.settings import AuthSettings, ExternalIssuer
from hub.auth.store import AuthStore
from hub.auth.tokens import Introspector, JwtValidator, PostForm, RevokedClients, TokenValidator

logger = logging.getLogger(__name__)
RESOURCE_PATH = "/mcp"


class AuthLayer:
    def __init__(
        self,
        *,
        settings: AuthSettings,
        resource: str,
        validator: TokenValidator,
        challenger: Challenger,
        store: AuthStore,
        revoked: RevokedClients,
        routes: list[BaseRoute],
        remote_jwks: list[RemoteJwks],
        http: httpx2.AsyncClient,
        issuer: TokenIssuer | None,
    ) -> None:
        self.settings = settings
        self.resource = resource
        self.validator = validator
        self.challenger = challenger
        self.store = store
        self.revoked = revoked
        self.issuer = issuer
        self._routes = routes
        self._remote_jwks = remote_jwks
        self._http = http
        self._poller: asyncio.Task[None] | None = None

    def middleware(self) -> list[Middleware]:
        return [
            Middleware(
                AuthMiddleware,
                validator=self.validator,
                challenger=self.challenger,
                admin_scope=self.settings.admin_scope,
            )
        ]

    def routes(self) -> list[BaseRoute]:
        return list(self._routes)

    def guard(self, app: ASGIApp, lookup: ToolLookup) -> ASGIApp:
        """Wrap an MCP endpoint so tools/call without the tool's scopes gets HTTP 403."""
        return ToolCallGuard(app, lookup=lookup, challenger=self.challenger)

    async def startup(self) -> None:
        await self._reload_revocations()
        for jwks in self._remote_jwks:
            await jwks.refresh()  # warm: the first request should not wait for the IdP
        self._poller = asyncio.create_task(self._poll_revocations(), name="auth-revocations")

    async def aclose(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        await self._http.aclose()

    async def revoke_client(self, client_id: str) -> bool:
        revoked = await self.store.revoke_client(client_id)
        self.revoked.add(client_id)
        return revoked

    async def _reload_revocations(self) -> None:
        self.revoked.replace(await self.store.revoked_client_ids())

    async def _poll_revocations(self) -> None:
        # The CLI revokes in another process; this is how a running hub hears of it.
        while True:
            await asyncio.sleep(self.settings.revocation_poll_interval_s)
            try:
                await self._reload_revocations()
            except Exception:
                logger.warning("reading revoked clients failed", exc_info=True)


def build_auth(
    settings: AuthSettings,
    data_dir: Path,
    engine: AsyncEngine,
    *,
    public_url: str | None = None,
    fetch_json: FetchJson | None = None,
    post_form: PostForm | None = None,
) -> AuthLayer:
    """`public_url` (scheme://host[:port]) defaults to settings.public_url; fetchers default to httpx2."""
    base = (settings.public_url or public_url or "").rstrip("/")
    if not base:
        raise ValueError("auth needs the hub's public URL (auth.public_url)")
    resource = base + RESOURCE_PATH
    http = httpx2.AsyncClient(timeout=settings.fetch_timeout_s, follow_redirects=False)
    fetch = fetch_json or _fetcher(http, settings.cimd_max_bytes)
    post = post_form or _poster(http)
    store = AuthStore(engine)
    revoked = RevokedClients()
    audiences = [resource, *settings.extra_audiences]
    jwt_validators, introspectors, remote = _external(settings, audiences, fetch, post)
    routes: list[BaseRoute]
    issuer: TokenIssuer | None = None
    if settings.mode == "embedded":
        issuer, validator_, routes = _embedded(settings, data_dir, base, resource, store, revoked, fetch)
        jwt_validators.append(validator_)
        auth_servers = [base]
    else:
        routes = []
        auth_servers = [i.issuer for i in settings.issuers]
    validator = TokenValidator(
        jwt_validators,
        introspectors,
        revoked,
        cache_size=settings.validation_cache_size,
        introspection_cache_ttl_s=settings.introspection_cache_ttl_s,
    )
    prm = protected_resource_metadata(resource, auth_servers, settings.default_scopes)
    as_meta = (
        authorization_server_metadata(
            base, settings.default_scopes, dcr=settings.dcr_enabled, cimd=settings.cimd_enabled
        )
        if settings.mode == "embedded"
        else None
    )
    routes = [*metadata_routes(resource, prm, as_meta), *routes]
    challenger = Challenger(prm_url(resource), settings.default_scopes)
    return AuthLayer(
        settings=settings,
        resource=resource,
        validator=validator,
        challenger=challenger,
        store=store,
        revoked=revoked,
        routes=routes,
        remote_jwks=remote,
        http=http,
        issuer=issuer,
    )


def _embedded(
    settings: AuthSettings,
    data_dir: Path,
    base: str,
    resource: str,
    store: AuthStore,
    revoked: RevokedClients,
    fetch: FetchJson,
) -> tuple[TokenIssuer, JwtValidator, list[BaseRoute]]:
    keys = load_keys(data_dir)
    issuer = TokenIssuer(base, keys[0], settings.access_token_ttl_s)
    validator = JwtValidator(
        base,
        LocalKeys(keys),
        audiences=[resource],
        algorithms=[ALGORITHM],
        leeway_s=settings.clock_skew_s,
        tenant_claim=TENANT_CLAIM,
        default_tenant="default",
        required_typ=ACCESS_TOKEN_TYP,
    )
    policy = ServerPolicy(
        resource=resource,
        default_scopes=tuple(settings.default_scopes),
        admin_scope=settings.admin_scope,
        code_ttl_s=settings.auth_code_ttl_s,
        refresh_ttl_s=settings.refresh_token_ttl_s,
        login_ttl_s=settings.login_request_ttl_s,
        dcr_enabled=settings.dcr_enabled,
    )
    server = AuthServer(
        issuer=issuer,
        store=store,
        policy=policy,
        revoked=revoked,
        cimd=CimdResolver(fetch) if settings.cimd_enabled else None,
        jwks={"keys": [k.public_jwk() for k in keys]},
    )
    return issuer, validator, server.routes()


def _external(
    settings: AuthSettings, audiences: list[str], fetch: FetchJson, post: PostForm
) -> tuple[list[JwtValidator], list[Introspector], list[RemoteJwks]]:
    validators: list[JwtValidator] = []
    introspectors: list[Introspector] = []
    remote: list[RemoteJwks] = []
    for conf in settings.issuers:
        if conf.jwks_uri is not None:
            jwks = RemoteJwks(conf.jwks_uri, fetch, settings.jwks_cache_ttl_s, settings.jwks_min_refetch_s)
            remote.append(jwks)
            validators.append(_external_jwt(conf, jwks, audiences, settings.clock_skew_s))
        else:
            introspectors.append(_introspector(conf, audiences, post))
    return validators, introspectors, remote


def _external_jwt(conf: ExternalIssuer, jwks: RemoteJwks, audiences: list[str], skew: int) -> JwtValidator:
    return JwtValidator(
        conf.issuer,
        jwks,
        audiences=audiences,
        algorithms=conf.algorithms,
        leeway_s=skew,
        tenant_claim=conf.tenant_claim,
        default_tenant=conf.default_tenant,
    )


def _introspector(conf: ExternalIssuer, audiences: list[str], post: PostForm) -> Introspector:
    assert conf.introspection_endpoint is not None
    secret = conf.introspection_client_secret
    auth = (
        (conf.introspection_client_id, secret.get_secret_value())
        if conf.introspection_client_id and secret
        else None
    )
    return Introspector(
        conf.issuer,
        conf.introspection_endpoint,
        post,
        client_auth=auth,
        audiences=audiences,
        tenant_claim=conf.tenant_claim,
        default_tenant=conf.default_tenant,
    )


def _fetcher(http: httpx2.AsyncClient, max_bytes: int) -> FetchJson:
    async def fetch(url: str) -> Any:
        async with http.stream("GET", url, headers={"Accept": "application/json"}) as response:
            response.raise_for_status()
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise ValueError(f"{url}: document larger than {max_bytes} bytes")
        return httpx2.Response(200, content=body).json()

    return fetch


def _poster(http: httpx2.AsyncClient) -> PostForm:
    async def post(url: str, form: dict[str, str], basic: tuple[str, str] | None) -> Any:
        headers = {"Accept": "application/json"}
        if basic:
            response = await http.post(url, data=form, auth=httpx2.BasicAuth(*basic), headers=headers)
        else:
            response = await http.post(url, data=form, headers=headers)
        response.raise_for_status()
        return response.json()

    return post
