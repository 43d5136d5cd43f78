"""The embedded authorization server: authorize (login + consent), token, register, jwks, revoke.

OAuth 2.1 subset for MCP: authorization code with PKCE (S256 only), refresh tokens with rotation
and reuse detection, client credentials for operator-created clients, RFC 7591 registration, and
Client ID Metadata Documents. The authorize form carries the validated request as a short-lived
token signed by the AS, so the POST cannot alter what the GET checked.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode

import jwt
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from hub.auth.clients import (
    CimdResolver,
    ClientError,
    is_cimd_client_id,
    parse_registration,
    redirect_uri_allowed,
)
from hub.auth.issuing import LOGIN_REQUEST_TYP, TokenIssuer, new_secret
from hub.auth.login_page import error_page, login_page
from hub.auth.passwords import verify_password
from hub.auth.store import AuthStore, ClientRecord, CodeRecord, Grant, token_hash
from hub.auth.tokens import RevokedClients

AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/token"
REGISTER_PATH = "/oauth/register"
JWKS_PATH = "/oauth/jwks"
REVOKE_PATH = "/oauth/revoke"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True, slots=True)
class ServerPolicy:
    resource: str
    default_scopes: tuple[str, ...]
    admin_scope: str
    code_ttl_s: int
    refresh_ttl_s: int
    login_ttl_s: int
    dcr_enabled: bool


class OAuthError(Exception):
    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status

    def response(self) -> Response:
        body = {"error": self.code, "error_description": self.description}
        headers = dict(_NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="mcphub"'
        return JSONResponse(body, status_code=self.status, headers=headers)


class AuthServer:
    def __init__(
        self,
        *,
        issuer: TokenIssuer,
        store: AuthStore,
        policy: ServerPolicy,
        revoked: RevokedClients,
        cimd: CimdResolver | None,
        jwks: dict[str, Any],
    ) -> None:
        self._issuer = issuer
        self._store = store
        self._policy = policy
        self._revoked = revoked
        self._cimd = cimd
        self._jwks = jwks

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [
            Route(AUTHORIZE_PATH, self.authorize, methods=["GET", "POST"]),
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(JWKS_PATH, self.jwks, methods=["GET"]),
            Route(REVOKE_PATH, self.revoke, methods=["POST"]),
        ]
        if self._policy.dcr_enabled:
            routes.append(Route(REGISTER_PATH, self.register, methods=["POST"]))
        return routes

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(self._jwks, headers={"Cache-Control": "public, max-age=300"})

    # -- clients -----------------------------------------------------------------------------------

    async def _client(self, client_id: str) -> ClientRecord:
        if client_id in self._revoked:
            raise ClientError("invalid_client", "client revoked")
        record = await self._store.get_client(client_id)
        if record is None and self._cimd is not None and is_cimd_client_id(client_id):
            record = await self._cimd.resolve(client_id)
            await self._store.upsert_cimd_client(record)
            record = await self._store.get_client(client_id)
        if record is None:
            raise ClientError("invalid_client", "unknown client")
        if record.revoked_at is not None:
            raise ClientError("invalid_client", "client revoked")
        return record

    async def register(self, request: Request) -> Response:
        try:
            registration = parse_registration(await _json(request))
        except ClientError as exc:
            return OAuthError(exc.code, exc.description).response()
        client_id = uuid.uuid4().hex
        secret = new_secret() if registration.auth_method != "none" else None
        record = ClientRecord(
            client_id=client_id,
            kind="dcr",
            tenant=None,
            name=registration.name,
            secret_hash=token_hash(secret) if secret else None,
            auth_method=registration.auth_method,
            redirect_uris=registration.redirect_uris,
            grant_types=registration.grant_types,
            scope=registration.scope,
        )
        await self._store.add_client(record)
        body: dict[str, Any] = {
            "client_id": client_id,
            "client_id_issued_at": int(time.time()),
            "client_name": registration.name,
            "redirect_uris": list(registration.redirect_uris),
            "grant_types": list(registration.grant_types),
            "response_types": ["code"],
            "token_endpoint_auth_method": registration.auth_method,
        }
        if registration.scope:
            body["scope"] = registration.scope
        if secret:
            body |= {"client_secret": secret, "client_secret_expires_at": 0}
        return JSONResponse(body, status_code=201, headers=_NO_STORE)

    # -- authorize ---------------------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        if request.method == "GET":
            return await self._authorize_form(dict(request.query_params))
        return await self._authorize_submit(dict(await request.form()))

    async def _authorize_form(self, params: dict[str, Any]) -> Response:
        try:
            client = await self._client(str(params.get("client_id", "")))
        except ClientError as exc:
            return error_page(exc.description)
        redirect_uri = str(params.get("redirect_uri", ""))
        if not redirect_uri_allowed(client.redirect_uris, redirect_uri):
            # Never redirect to an unchecked URI (open redirector); tell the user instead.
            return error_page("redirect_uri is not registered for this client")
        state = params.get("state")
        try:
            request_claims = self._checked_request(client, params)
        except OAuthError as exc:
            return _redirect(redirect_uri, {"error": exc.code, "error_description": exc.description}, state)
        token = self._issuer.sign(request_claims, LOGIN_REQUEST_TYP)
        return login_page(
            request_token=token,
            client_name=client.name or client.client_id,
            redirect_uri=redirect_uri,
            scopes=request_claims["scope"].split(),
        )

    def _checked_request(self, client: ClientRecord, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "response_type must be code")
        if "authorization_code" not in client.grant_types:
            raise OAuthError("unauthorized_client", "client may not use the authorization code grant")
        challenge = params.get("code_challenge")
        if params.get("code_challenge_method") != "S256" or not challenge:
            raise OAuthError("invalid_request", "PKCE with code_challenge_method S256 is required")
        resource = params.get("resource") or self._policy.resource
        if resource != self._policy.resource:
            raise OAuthError("invalid_target", "unknown resource")
        scope = params.get("scope") or client.scope or " ".join(self._policy.default_scopes)
        now = int(time.time())
        return {
            "iss": self._issuer.issuer,
            "aud": self._issuer.issuer + AUTHORIZE_PATH,
            "exp": now + self._policy.login_ttl_s,
            "client_id": client.client_id,
            "redirect_uri": params["redirect_uri"],
            "state": params.get("state"),
            "code_challenge": challenge,
            "scope": scope,
            "resource": resource,
        }

    async def _authorize_submit(self, form: dict[str, Any]) -> Response:
        try:
            req = self._issuer.verify(
                str(form.get("request", "")), LOGIN_REQUEST_TYP, self._issuer.issuer + AUTHORIZE_PATH
            )
            client = await self._client(req["client_id"])
        except (jwt.InvalidTokenError, ClientError, KeyError):
            return error_page("the sign-in request expired or is invalid; start again from the app")
        if form.get("action") != "approve":
            return _redirect(req["redirect_uri"], {"error": "access_denied"}, req["state"])
        user = await self._store.get_user(str(form.get("username", "")))
        password = str(form.get("password", ""))
        # scrypt takes ~1 s of CPU on purpose: keep it off the event loop.
        if user is None or not await asyncio.to_thread(verify_password, password, user.password_hash):
            return login_page(
                request_token=str(form["request"]),
                client_name=client.name or client.client_id,
                redirect_uri=req["redirect_uri"],
                scopes=req["scope"].split(),
                error="wrong user or password",
            )
        scopes = [s for s in req["scope"].split() if s != self._policy.admin_scope or user.is_admin]
        code = new_secret()
        grant = Grant(client.client_id, user.name, user.tenant, " ".join(scopes), req["resource"])
        expires = time.time() + self._policy.code_ttl_s
        await self._store.save_code(
            code, CodeRecord(grant, req["redirect_uri"], req["code_challenge"], expires)
        )
        return _redirect(req["redirect_uri"], {"code": code}, req["state"])

    # -- token -------------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            client = await self._authenticate(request, form)
            handler = {
                "authorization_code": self._code_grant,
                "refresh_token": self._refresh_grant,
                "client_credentials": self._client_credentials_grant,
            }.get(form.get("grant_type", ""))
            if handler is None:
                raise OAuthError("unsupported_grant_type", "grant_type not supported")
            if form["grant_type"] not in client.grant_types:
                raise OAuthError("unauthorized_client", "grant_type not allowed for this client")
            return JSONResponse(await handler(client, form), headers=_NO_STORE)
        except ClientError as exc:
            return OAuthError(exc.code, exc.description, 401).response()
        except OAuthError as exc:
            return exc.response()

    async def _authenticate(self, request: Request, form: dict[str, str]) -> ClientRecord:
        client_id, secret = _basic_credentials(request) or (
            form.get("client_id", ""),
            form.get("client_secret"),
        )
        client = await self._client(client_id)
        if client.auth_method == "none":
            return client  # public client: PKCE (or nothing it may do) protects it
        if not secret or client.secret_hash is None:
            raise ClientError("invalid_client", "client authentication required")
        if not hmac.compare_digest(token_hash(secret), client.secret_hash):
            raise ClientError("invalid_client", "client authentication failed")
        return client

    async def _code_grant(self, client: ClientRecord, form: dict[str, str]) -> dict[str, Any]:
        record = await self._store.take_code(form.get("code", ""))
        if record is None or record.grant.client_id != client.client_id:
            raise OAuthError("invalid_grant", "authorization code invalid, expired or used")
        if form.get("redirect_uri") != record.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
        verifier = form.get("code_verifier", "")
        if not verifier or not hmac.compare_digest(
            create_s256_code_challenge(verifier), record.code_challenge
        ):
            raise OAuthError("invalid_grant", "PKCE verification failed")
        _check_resource(form, record.grant.resource)
        return await self._tokens(client, record.grant, family=uuid.uuid4().hex)

    async def _refresh_grant(self, client: ClientRecord, form: dict[str, str]) -> dict[str, Any]:
        used = await self._store.use_refresh(form.get("refresh_token", ""))
        if used is None or used[0].client_id != client.client_id:
            raise OAuthError("invalid_grant", "refresh token invalid, expired, revoked or reused")
        grant, family = used
        _check_resource(form, grant.resource)
        if "scope" in form:  # a refresh may narrow the grant, never widen it
            narrowed = set(form["scope"].split())
            if not narrowed <= set(grant.scope.split()):
                raise OAuthError("invalid_scope", "refresh may not add scopes")
            grant = Grant(
                grant.client_id, grant.subject, grant.tenant, " ".join(sorted(narrowed)), grant.resource
            )
        return await self._tokens(client, grant, family=family)

    async def _client_credentials_grant(self, client: ClientRecord, form: dict[str, str]) -> dict[str, Any]:
        if client.tenant is None or client.secret_hash is None:
            raise OAuthError("unauthorized_client", "only operator-created confidential clients")
        allowed = set((client.scope or "").split())
        requested = set(form["scope"].split()) if "scope" in form else allowed
        if not requested <= allowed:
            raise OAuthError("invalid_scope", "scope exceeds what the client was granted")
        _check_resource(form, self._policy.resource)
        grant = Grant(
            client.client_id,
            client.client_id,
            client.tenant,
            " ".join(sorted(requested)),
            self._policy.resource,
        )
        return await self._tokens(client, grant, family=None)

    async def _tokens(self, client: ClientRecord, grant: Grant, family: str | None) -> dict[str, Any]:
        access = self._issuer.access_token(
            subject=grant.subject,
            client_id=grant.client_id,
            tenant=grant.tenant,
            scopes=grant.scope.split(),
            audience=grant.resource,
        )
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self._issuer.access_ttl_s,
            "scope": grant.scope,
        }
        if family is not None and "refresh_token" in client.grant_types:
            refresh = new_secret()
            expires = time.time() + self._policy.refresh_ttl_s
            await self._store.save_refresh(refresh, family, grant, expires)
            body["refresh_token"] = refresh
        return body

    # -- revoke ------------------------------------------------------------------------------------

    async def revoke(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            client = await self._authenticate(request, form)
        except ClientError as exc:
            return OAuthError(exc.code, exc.description, 401).response()
        # RFC 7009: unknown tokens and access tokens (JWTs; they expire) answer 200 all the same.
        await self._store.revoke_refresh(form.get("token", ""), client.client_id)
        return Response(status_code=200, headers=_NO_STORE)


def _check_resource(form: dict[str, str], granted: str) -> None:
    if "resource" in form and form["resource"] != granted:
        raise OAuthError("invalid_target", "resource differs from the one granted")


def _redirect(uri: str, params: dict[str, str], state: str | None) -> Response:
    if state is not None:
        params = {**params, "state": state}
    separator = "&" if "?" in uri else "?"
    return RedirectResponse(uri + separator + urlencode(params), status_code=302, headers=_NO_STORE)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None
