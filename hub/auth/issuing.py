"""Minting the embedded AS's tokens: JWT access tokens (RFC 9068 profile) and opaque refresh tokens."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterable
from typing import Any

import jwt

from hub.auth.keys import ALGORITHM, SigningKey

ACCESS_TOKEN_TYP = "at+jwt"
LOGIN_REQUEST_TYP = "mcphub-login+jwt"
TENANT_CLAIM = "tenant"


class TokenIssuer:
    def __init__(self, issuer: str, key: SigningKey, access_ttl_s: int) -> None:
        self.issuer = issuer
        self._key = key
        self.access_ttl_s = access_ttl_s

    def access_token(
        self, *, subject: str, client_id: str, tenant: str, scopes: Iterable[str], audience: str
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "client_id": client_id,
            TENANT_CLAIM: tenant,
            "scope": " ".join(sorted(set(scopes))),
            "iat": now,
            "nbf": now,
            "exp": now + self.access_ttl_s,
            "jti": uuid.uuid4().hex,
        }
        return self.sign(claims, ACCESS_TOKEN_TYP)

    def sign(self, claims: dict[str, Any], typ: str) -> str:
        # `typ` keeps token kinds apart: a login-form token can never pass as an access token.
        headers = {"kid": self._key.kid, "typ": typ}
        return jwt.encode(claims, self._key.private_key, algorithm=ALGORITHM, headers=headers)

    def verify(self, token: str, typ: str, audience: str) -> dict[str, Any]:
        """Claims of a token this AS signed itself with `typ` (raises jwt.InvalidTokenError)."""
        if jwt.get_unverified_header(token).get("typ") != typ:
            raise jwt.InvalidTokenError("wrong token type")
        claims: dict[str, Any] = jwt.decode(
            token,
            self._key.private_key.public_key(),
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=self.issuer,
            options={"require": ["exp", "iss", "aud"]},
        )
        return claims


def new_secret() -> str:
    """Codes, refresh tokens, client secrets: 256 bits from the OS CSPRNG."""
    return secrets.token_urlsafe(32)
