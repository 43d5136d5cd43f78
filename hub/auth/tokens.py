"""Bearer token validation: JWT (per-issuer keys) or RFC 7662 introspection, then a small cache.

Every accepted token must name this hub as audience (RFC 8707), carry a known issuer, and be
within exp/nbf. A validated token is cached until it expires, so the steady state costs one dict
lookup per request; revoked clients are checked on every request, cached or not.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import jwt

from hub.auth.jwks import KeySource
from hub.auth.principal import Principal, TokenError

PostForm = Callable[[str, dict[str, str], tuple[str, str] | None], Awaitable[Any]]  # url, form, basic


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """`scope` (RFC 8693/9068, space-separated) or `scp` (a list, as some IdPs send it)."""
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, list):
        return frozenset(s for s in scp if isinstance(s, str))
    return frozenset()


def principal_from_claims(claims: Mapping[str, Any], *, tenant_claim: str, default_tenant: str) -> Principal:
    client_id = claims.get("client_id") or claims.get("azp") or ""
    tenant = claims.get(tenant_claim) or default_tenant
    return Principal(
        subject=str(claims.get("sub", "")),
        client_id=str(client_id),
        tenant=str(tenant),
        scopes=scopes_of(claims),
        expires_at=float(claims["exp"]),
        issuer=str(claims.get("iss", "")),
    )


class JwtValidator:
    """One issuer's JWTs."""

    def __init__(
        self,
        issuer: str,
        keys: KeySource,
        *,
        audiences: Sequence[str],
        algorithms: Sequence[str],
        leeway_s: float,
        tenant_claim: str,
        default_tenant: str,
        required_typ: str | None = None,
    ) -> None:
        self.issuer = issuer
        self._keys = keys
        self._audiences = list(audiences)
        self._algorithms = list(algorithms)  # fixed by configuration, never taken from the token
        self._leeway_s = leeway_s
        self._tenant_claim = tenant_claim
        self._default_tenant = default_tenant
        self._required_typ = required_typ

    async def validate(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenError("malformed token") from exc
        if self._required_typ is not None and str(header.get("typ", "")).lower() != self._required_typ:
            raise TokenError("not an access token")
        key = await self._keys.key_for(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._audiences,
                issuer=self.issuer,
                leeway=self._leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenError("token is for another resource") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"invalid token: {exc}") from exc
        return principal_from_claims(
            claims, tenant_claim=self._tenant_claim, default_tenant=self._default_tenant
        )


class Introspector:
    """One issuer's opaque tokens, via RFC 7662."""

    def __init__(
        self,
        issuer: str,
        endpoint: str,
        post: PostForm,
        *,
        client_auth: tuple[str, str] | None,
        audiences: Sequence[str],
        tenant_claim: str,
        default_tenant: str,
    ) -> None:
        self.issuer = issuer
        self._endpoint = endpoint
        self._post = post
        self._client_auth = client_auth
        self._audiences = frozenset(audiences)
        self._tenant_claim = tenant_claim
        self._default_tenant = default_tenant

    async def validate(self, token: str) -> Principal:
        answer = await self._post(self._endpoint, {"token": token}, self._client_auth)
        if not isinstance(answer, dict) or answer.get("active") is not True:
            raise TokenError("token is not active")
        if answer.get("iss", self.issuer) != self.issuer:
            raise TokenError("token from another issuer")
        if not self._audiences.intersection(_as_list(answer.get("aud"))):
            raise TokenError("token is for another resource")
        exp = answer.get("exp")
        if not isinstance(exp, int | float) or exp <= time.time():
            raise TokenError("token expired")
        nbf = answer.get("nbf")
        if isinstance(nbf, int | float) and nbf > time.time():
            raise TokenError("token not yet valid")
        claims = {**answer, "iss": self.issuer}
        return principal_from_claims(
            claims, tenant_claim=self._tenant_claim, default_tenant=self._default_tenant
        )


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


class RevokedClients:
    """Client ids whose tokens are refused. Replaced wholesale by the poller; added to on revoke."""

    def __init__(self) -> None:
        self._ids: frozenset[str] = frozenset()

    def replace(self, ids: Iterable[str]) -> None:
        self._ids = frozenset(ids)

    def add(self, client_id: str) -> None:
        self._ids = self._ids | {client_id}

    def __contains__(self, client_id: object) -> bool:
        return client_id in self._ids


class TokenValidator:
    """Routes a token to its issuer's validator; caches successes until expiry (bounded)."""

    def __init__(
        self,
        jwt_validators: Sequence[JwtValidator],
        introspectors: Sequence[Introspector],
        revoked: RevokedClients,
        *,
        cache_size: int,
        introspection_cache_ttl_s: float,
    ) -> None:
        self._by_issuer = {v.issuer: v for v in jwt_validators}
        self._introspectors = list(introspectors)
        self._revoked = revoked
        self._cache_size = cache_size
        self._introspection_ttl_s = introspection_cache_ttl_s
        self._cache: dict[str, tuple[Principal, float]] = {}

    async def validate(self, token: str) -> Principal:
        now = time.time()
        hit = self._cache.get(token)
        if hit is not None and hit[1] > now:
            principal = hit[0]
        else:
            principal, until = await self._validate(token, now)
            self._remember(token, principal, until)
        if principal.client_id in self._revoked:
            raise TokenError("client revoked")
        return principal

    async def _validate(self, token: str, now: float) -> tuple[Principal, float]:
        if token.count(".") == 2:
            principal = await self._jwt_validator(token).validate(token)
            return principal, principal.expires_at
        if not self._introspectors:
            raise TokenError("malformed token")
        error = TokenError("token is not active")
        for introspector in self._introspectors:
            try:
                principal = await introspector.validate(token)
            except TokenError as exc:
                error = exc
                continue
            # Re-ask after a while: an opaque token can be revoked at its issuer.
            return principal, min(principal.expires_at, now + self._introspection_ttl_s)
        raise error

    def _jwt_validator(self, token: str) -> JwtValidator:
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.InvalidTokenError as exc:
            raise TokenError("malformed token") from exc
        validator = self._by_issuer.get(issuer) if isinstance(issuer, str) else None
        if validator is None:
            raise TokenError("token from an untrusted issuer")
        return validator

    def _remember(self, token: str, principal: Principal, until: float) -> None:
        if len(self._cache) >= self._cache_size:
            # Drop expired entries first; if none, the oldest (dicts keep insertion order).
            now = time.time()
            self._cache = {t: e for t, e in self._cache.items() if e[1] > now}
            if len(self._cache) >= self._cache_size:
                del self._cache[next(iter(self._cache))]
        self._cache[token] = (principal, until)
