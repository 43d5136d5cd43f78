"""Who a request acts for, once its bearer token checked out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    client_id: str
    tenant: str
    scopes: frozenset[str]
    expires_at: float
    issuer: str


class TokenError(Exception):
    """The bearer token is unusable; the message goes into `error_description` (never the token)."""
