"""Auth persistence: users, clients, authorization codes, refresh tokens (tables from c0002_auth).

Codes and refresh tokens are stored as SHA-256 hashes: they are long random strings, so a plain
hash suffices, and a database leak yields nothing usable. Taking a code or a refresh token is
one DELETE/UPDATE, so two concurrent redemptions cannot both win.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    Row,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from catalog.db import SQLITE_BEGIN_OPTION, is_sqlite
from catalog.tables import auth_clients as clients
from catalog.tables import auth_codes as codes
from catalog.tables import auth_refresh_tokens as refresh_tokens
from catalog.tables import auth_users as users


class AuthStoreError(Exception):
    """A write the store refuses (e.g. a duplicate user)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class UserRecord:
    name: str
    tenant: str
    password_hash: str
    is_admin: bool


@dataclass(frozen=True, slots=True)
class ClientRecord:
    client_id: str
    kind: str
    tenant: str | None
    name: str | None
    secret_hash: str | None
    auth_method: str
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    scope: str | None
    created_at: float = 0.0
    revoked_at: float | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """What a code or refresh token stands for."""

    client_id: str
    subject: str
    tenant: str
    scope: str
    resource: str


@dataclass(frozen=True, slots=True)
class CodeRecord:
    grant: Grant
    redirect_uri: str
    code_challenge: str
    expires_at: float


class AuthStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._reader = engine
        # SQLite: take the write lock at BEGIN, as the catalog store does (no SQLITE_BUSY upgrades).
        self._writer = (
            engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"}) if is_sqlite(engine) else engine
        )

    # -- users -------------------------------------------------------------------------------------

    async def add_user(self, user: UserRecord) -> None:
        row = {
            "name": user.name,
            "tenant": user.tenant,
            "password_hash": user.password_hash,
            "is_admin": user.is_admin,
            "created_at": time.time(),
        }
        try:
            async with self._writer.begin() as conn:
                await conn.execute(insert(users).values(**row))
        except IntegrityError as exc:
            raise AuthStoreError(f"user {user.name!r} exists") from exc

    async def get_user(self, name: str) -> UserRecord | None:
        async with self._reader.connect() as conn:
            row = (await conn.execute(select(users).where(users.c.name == name))).first()
        if row is None:
            return None
        return UserRecord(row.name, row.tenant, row.password_hash, row.is_admin)

    # -- clients -----------------------------------------------------------------------------------

    async def add_client(self, client: ClientRecord) -> None:
        try:
            async with self._writer.begin() as conn:
                await conn.execute(insert(clients).values(**_client_row(client)))
        except IntegrityError as exc:
            raise AuthStoreError(f"client {client.client_id!r} exists") from exc

    async def upsert_cimd_client(self, client: ClientRecord) -> None:
        """Remember a metadata-document client (for listing and revocation); keeps a revocation."""
        async with self._writer.begin() as conn:
            found = (
                await conn.execute(select(clients.c.id).where(clients.c.client_id == client.client_id))
            ).first()
            row = _client_row(client)
            if found is None:
                await conn.execute(insert(clients).values(**row))
            else:
                row.pop("created_at")
                row.pop("revoked_at")
                await conn.execute(update(clients).where(clients.c.id == found.id).values(**row))

    async def get_client(self, client_id: str) -> ClientRecord | None:
        async with self._reader.connect() as conn:
            row = (await conn.execute(select(clients).where(clients.c.client_id == client_id))).first()
        return _client(row) if row is not None else None

    async def list_clients(self) -> list[ClientRecord]:
        async with self._reader.connect() as conn:
            rows = (await conn.execute(select(clients).order_by(clients.c.id))).all()
        return [_client(r) for r in rows]

    async def revoke_client(self, client_id: str) -> bool:
        """Refuse the client's tokens from now on, and drop its refresh tokens."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(clients)
                .where(clients.c.client_id == client_id, clients.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
            await conn.execute(
                update(refresh_tokens).where(refresh_tokens.c.client_id == client_id).values(revoked=True)
            )
        return bool(result.rowcount)

    async def revoked_client_ids(self) -> list[str]:
        async with self._reader.connect() as conn:
            rows = await conn.execute(select(clients.c.client_id).where(clients.c.revoked_at.is_not(None)))
            return [r.client_id for r in rows]

    # -- authorization codes -----------------------------------------------------------------------

    async def save_code(self, code: str, record: CodeRecord) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(delete(codes).where(codes.c.expires_at < time.time()))
            await conn.execute(
                insert(codes).values(
                    code_hash=token_hash(code),
                    redirect_uri=record.redirect_uri,
                    code_challenge=record.code_challenge,
                    expires_at=record.expires_at,
                    **_grant_row(record.grant),
                )
            )

    async def take_code(self, code: str) -> CodeRecord | None:
        """The code's record, deleted in the same statement: a code works once."""
        async with self._writer.begin() as conn:
            row = (
                await conn.execute(
                    delete(codes).where(codes.c.code_hash == token_hash(code)).returning(codes)
                )
            ).first()
        if row is None or row.expires_at < time.time():
            return None
        return CodeRecord(_grant(row), row.redirect_uri, row.code_challenge, row.expires_at)

    # -- refresh tokens ----------------------------------------------------------------------------

    async def save_refresh(self, token: str, family_id: str, grant: Grant, expires_at: float) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(
                insert(refresh_tokens).values(
                    token_hash=token_hash(token),
                    family_id=family_id,
                    expires_at=expires_at,
                    used_at=None,
                    revoked=False,
                    **_grant_row(grant),
                )
            )

    async def use_refresh(self, token: str) -> tuple[Grant, str] | None:
        """(grant, family) of a live refresh token, now marked used. Presenting a used token again
        means it leaked: the whole family is revoked (OAuth 2.1 §4.3.1 rotation)."""
        hashed = token_hash(token)
        now = time.time()
        async with self._writer.begin() as conn:
            row = (
                await conn.execute(select(refresh_tokens).where(refresh_tokens.c.token_hash == hashed))
            ).first()
            if row is None or row.revoked or row.expires_at < now:
                return None
            if row.used_at is not None:
                await _revoke_family(conn, row.family_id)
                return None
            await conn.execute(
                update(refresh_tokens).where(refresh_tokens.c.token_hash == hashed).values(used_at=now)
            )
        return _grant(row), row.family_id

    async def revoke_refresh(self, token: str, client_id: str) -> None:
        async with self._writer.begin() as conn:
            row = (
                await conn.execute(
                    select(refresh_tokens.c.family_id).where(
                        refresh_tokens.c.token_hash == token_hash(token),
                        refresh_tokens.c.client_id == client_id,
                    )
                )
            ).first()
            if row is not None:
                await _revoke_family(conn, row.family_id)


async def _revoke_family(conn: AsyncConnection, family_id: str) -> None:
    await conn.execute(
        update(refresh_tokens).where(refresh_tokens.c.family_id == family_id).values(revoked=True)
    )


def _grant_row(grant: Grant) -> dict[str, str]:
    return {
        "client_id": grant.client_id,
        "subject": grant.subject,
        "tenant": grant.tenant,
        "scope": grant.scope,
        "resource": grant.resource,
    }


def _grant(row: Row[Any]) -> Grant:
    r = row._mapping
    return Grant(r["client_id"], r["subject"], r["tenant"], r["scope"], r["resource"])


def _client_row(client: ClientRecord) -> dict[str, object]:
    return {
        "client_id": client.client_id,
        "kind": client.kind,
        "tenant": client.tenant,
        "name": client.name,
        "secret_hash": client.secret_hash,
        "auth_method": client.auth_method,
        "redirect_uris": orjson.dumps(list(client.redirect_uris)).decode(),
        "grant_types": orjson.dumps(list(client.grant_types)).decode(),
        "scope": client.scope,
        "created_at": client.created_at or time.time(),
        "revoked_at": client.revoked_at,
    }


def _client(row: Row[Any]) -> ClientRecord:
    r = row._mapping
    return ClientRecord(
        client_id=r["client_id"],
        kind=r["kind"],
        tenant=r["tenant"],
        name=r["name"],
        secret_hash=r["secret_hash"],
        auth_method=r["auth_method"],
        redirect_uris=_str_tuple(r["redirect_uris"]),
        grant_types=_str_tuple(r["grant_types"]),
        scope=r["scope"],
        created_at=r["created_at"],
        revoked_at=r["revoked_at"],
    )


def _str_tuple(text: str) -> tuple[str, ...]:
    value = orjson.loads(text)
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


__all__: Sequence[str] = (
    "AuthStore",
    "AuthStoreError",
    "ClientRecord",
    "CodeRecord",
    "Grant",
    "UserRecord",
    "token_hash",
)
