"""The catalog's database API: register, list and remove APIs, tool overrides, whole-catalog reads.

Every write runs in one transaction whose first statement bumps `catalog_state.revision`. That
row lock (PostgreSQL) or write lock (SQLite, BEGIN IMMEDIATE) serialises writers, and hubs that
poll the revision reload exactly when something committed. Versions are immutable once written
and readers see one consistent snapshot, so a reader gets the old API or the new one, never a mix.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from catalog.crypto import SecretBox, SecretKeyError
from catalog.db import SQLITE_BEGIN_OPTION, is_sqlite
from catalog.encoding import (
    decode_object,
    decode_security_schemes,
    decode_str_list,
    dump_json,
    encode_security_schemes,
    encode_tools,
)
from catalog.records import (
    ApiVersionInfo,
    CatalogApi,
    CatalogError,
    StoredTool,
    ToolOverrideInfo,
    check_api_name,
    check_tenant,
    check_tool_name,
)
from catalog.tables import DEFAULT_TENANT, STATE_ROW_ID, Api, ApiVersion, CatalogState, Tool, ToolOverride
from connectors.openapi.model import ApiDef

__all__ = ["ApiVersionInfo", "CatalogApi", "CatalogError", "CatalogStore", "StoredTool", "ToolOverrideInfo"]

KEEP_VERSIONS = 3

_VERSION_COLUMNS = (
    ApiVersion.id,
    ApiVersion.version,
    ApiVersion.source,
    ApiVersion.title,
    ApiVersion.description,
    ApiVersion.spec_version,
    ApiVersion.openapi_version,
    ApiVersion.base_url,
    ApiVersion.servers,
    ApiVersion.security_schemes,
    ApiVersion.warnings,
    ApiVersion.tool_count,
    ApiVersion.created_at,
)
_TOOL_COLUMNS = (
    Tool.version_id,
    Tool.key,
    Tool.name,
    Tool.title,
    Tool.description,
    Tool.input_schema,
    Tool.output_schema,
    Tool.plan,
    Tool.annotations,
    Tool.scopes,
    Tool.tags,
    Tool.deprecated,
)


class _Unchanged(Exception):
    """Raised inside a write transaction to roll it back (and leave the revision alone)."""


class CatalogStore:
    def __init__(self, engine: AsyncEngine, box: SecretBox, *, keep_versions: int = KEEP_VERSIONS) -> None:
        if keep_versions < 1:
            raise ValueError("keep_versions must be at least 1")
        self._engine = engine
        self._box = box
        self._keep_versions = keep_versions
        if is_sqlite(engine):
            # Take the write lock at BEGIN: a read-then-write upgrade could fail with SQLITE_BUSY.
            self._writer = engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            self._reader = engine
        else:
            self._writer = engine
            # Several SELECTs, one snapshot (read committed would give each its own).
            self._reader = engine.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def aclose(self) -> None:
        await self._engine.dispose()

    # -- writes ---------------------------------------------------------------------------------

    async def put_api(
        self,
        name: str,
        api: ApiDef,
        *,
        source: str,
        base_url: str | None,
        credentials: dict[str, Any] | None,
        tenant: str = DEFAULT_TENANT,
    ) -> ApiVersionInfo:
        """Store `api` as the new current version of `name` in one transaction; prune old versions."""
        check_api_name(name)
        check_tenant(tenant)
        # Serialising big schemas is CPU work: keep it off the event loop.
        tool_rows = await asyncio.to_thread(encode_tools, api.tools)
        sealed = self._seal(credentials)
        now = _now()
        async with self._write() as conn:
            api_id = await _ensure_api(conn, tenant, name, now)
            version = await _next_version_number(conn, api_id)
            version_row = _version_row(api, api_id, tenant, version, source, base_url, sealed, now)
            inserted = await conn.execute(insert(ApiVersion).returning(ApiVersion.id), version_row)
            version_id = inserted.scalar_one()
            if tool_rows:
                for row in tool_rows:
                    row["version_id"], row["tenant"] = version_id, tenant
                await conn.execute(insert(Tool), tool_rows)
            await conn.execute(
                update(Api).where(Api.id == api_id).values(current_version_id=version_id, updated_at=now)
            )
            await self._prune(conn, api_id)
        return ApiVersionInfo(
            name=name,
            tenant=tenant,
            version=version,
            source=source,
            title=api.title,
            description=api.description,
            spec_version=api.version,
            openapi_version=api.openapi_version,
            base_url=base_url,
            servers=list(api.servers),
            security_schemes=dict(api.security_schemes),
            warnings=list(api.warnings),
            tool_count=len(tool_rows),
            has_credentials=sealed is not None,
            created_at=_iso(now),
            updated_at=_iso(now),
        )

    async def remove_api(self, name: str, tenant: str = DEFAULT_TENANT) -> bool:
        """Delete the API, all its versions and its overrides. False if there was no such API."""
        check_tenant(tenant)
        if not isinstance(name, str) or not name:
            return False
        try:
            async with self._write() as conn:
                api_id = await _api_id(conn, tenant, name)
                if api_id is None:
                    raise _Unchanged
                await conn.execute(update(Api).where(Api.id == api_id).values(current_version_id=None))
                versions = select(ApiVersion.id).where(ApiVersion.api_id == api_id).scalar_subquery()
                await conn.execute(delete(Tool).where(Tool.version_id.in_(versions)))
                await conn.execute(delete(ApiVersion).where(ApiVersion.api_id == api_id))
                await conn.execute(delete(Api).where(Api.id == api_id))
                # A removed API starts from scratch if it is added again.
                await conn.execute(
                    delete(ToolOverride).where(ToolOverride.tenant == tenant, ToolOverride.api_name == name)
                )
        except _Unchanged:
            return False
        return True

    async def set_tool_override(
        self,
        api: str,
        key: str,
        *,
        enabled: bool | None = None,
        name: str | None = None,
        description: str | None = None,
        tenant: str = DEFAULT_TENANT,
    ) -> ToolOverrideInfo:
        """Change one tool of the API's current version. None leaves a field as it is; "" resets it."""
        check_api_name(api)
        check_tenant(tenant)
        _check_override(enabled, name, description)
        now = _now()
        async with self._write() as conn:
            await _check_tool_exists(conn, tenant, api, key)
            current = await _override_row(conn, tenant, api, key)
            values = _merged_override(current, enabled, name, description)
            await _save_override(conn, current, tenant, api, key, values, now)
            await conn.execute(
                update(Api).where(Api.tenant == tenant, Api.name == api).values(updated_at=now)
            )
        return ToolOverrideInfo(api=api, key=key, tenant=tenant, **values)

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        async with self._writer.begin() as conn:
            # First statement on purpose: it takes the lock that serialises writers.
            bumped = await conn.execute(
                update(CatalogState)
                .where(CatalogState.id == STATE_ROW_ID)
                .values(revision=CatalogState.revision + 1)
            )
            if bumped.rowcount != 1:
                raise CatalogError("the catalog database is not initialised: run the migrations first")
            yield conn

    async def _prune(self, conn: AsyncConnection, api_id: int) -> None:
        stale = (
            await conn.execute(
                select(ApiVersion.id)
                .where(ApiVersion.api_id == api_id)
                .order_by(ApiVersion.version.desc())
                .offset(self._keep_versions)
            )
        ).scalars().all()
        if stale:
            await conn.execute(delete(Tool).where(Tool.version_id.in_(stale)))
            await conn.execute(delete(ApiVersion).where(ApiVersion.id.in_(stale)))

    def _seal(self, credentials: dict[str, Any] | None) -> bytes | None:
        if not credentials or not any(credentials.values()):
            return None
        return self._box.encrypt_json(credentials)

    # -- reads ----------------------------------------------------------------------------------

    async def revision(self) -> int:
        async with self._engine.connect() as conn:
            value = await conn.scalar(select(CatalogState.revision).where(CatalogState.id == STATE_ROW_ID))
        if value is None:
            raise CatalogError("the catalog database is not initialised: run the migrations first")
        return int(value)

    async def list_apis(self, tenant: str | None = None) -> list[ApiVersionInfo]:
        """Every API's current version, by tenant and name; `tenant=None` lists all tenants."""
        query = _current_versions_query()
        if tenant is not None:
            query = query.where(Api.tenant == tenant)
        async with self._reader.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_version_info(row) for row in rows]

    async def get_api(self, name: str, tenant: str = DEFAULT_TENANT) -> ApiVersionInfo | None:
        query = _current_versions_query().where(Api.tenant == tenant, Api.name == name)
        async with self._reader.connect() as conn:
            row = (await conn.execute(query)).first()
        return _version_info(row) if row is not None else None

    async def load_catalog(self) -> list[CatalogApi]:
        """All current versions with tools, overrides and decrypted credentials, from one snapshot."""
        async with self._reader.connect() as conn, conn.begin():
            api_rows = (await conn.execute(_catalog_apis_query())).all()
            tool_rows = (await conn.execute(_catalog_tools_query())).all()
            override_rows = (await conn.execute(select(ToolOverride))).all()
        tools = _group_tools(tool_rows)
        overrides = _group_overrides(override_rows)
        return [
            self._catalog_api(row, tools.get(row.id, []), overrides.get((row.tenant, row.name), {}))
            for row in api_rows
        ]

    def _catalog_api(
        self, row: Row[Any], tools: Sequence[StoredTool], overrides: dict[str, ToolOverrideInfo]
    ) -> CatalogApi:
        return CatalogApi(
            tenant=row.tenant,
            name=row.name,
            version=row.version,
            source=row.source,
            title=row.title,
            base_url=row.base_url,
            security_schemes=decode_security_schemes(row.security_schemes),
            tools=tuple(tools),
            overrides=overrides,
            credentials=self._open(row.name, row.credentials),
        )

    def _open(self, api: str, sealed: bytes | None) -> dict[str, Any] | None:
        if sealed is None:
            return None
        try:
            value = self._box.decrypt_json(bytes(sealed))
        except SecretKeyError as exc:
            raise CatalogError(f"credentials of API {api!r}: {exc}") from None
        return value if isinstance(value, dict) else None


# -- write helpers --------------------------------------------------------------------------------


async def _api_id(conn: AsyncConnection, tenant: str, name: str) -> int | None:
    value = await conn.scalar(select(Api.id).where(Api.tenant == tenant, Api.name == name))
    return int(value) if value is not None else None


async def _ensure_api(conn: AsyncConnection, tenant: str, name: str, now: datetime) -> int:
    api_id = await _api_id(conn, tenant, name)
    if api_id is not None:
        return api_id
    values = {"tenant": tenant, "name": name, "created_at": now, "updated_at": now}
    return int((await conn.execute(insert(Api).returning(Api.id), values)).scalar_one())


async def _next_version_number(conn: AsyncConnection, api_id: int) -> int:
    latest = await conn.scalar(select(func.max(ApiVersion.version)).where(ApiVersion.api_id == api_id))
    return int(latest or 0) + 1


def _version_row(
    api: ApiDef,
    api_id: int,
    tenant: str,
    version: int,
    source: str,
    base_url: str | None,
    sealed: bytes | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "api_id": api_id,
        "tenant": tenant,
        "version": version,
        "source": source,
        "title": api.title or "",
        "description": api.description or "",
        "spec_version": api.version or "",
        "openapi_version": api.openapi_version or "",
        "base_url": base_url,
        "servers": dump_json(list(api.servers)),
        "security_schemes": encode_security_schemes(api.security_schemes),
        "credentials": sealed,
        "warnings": dump_json(list(api.warnings)),
        "tool_count": len(api.tools),
        "created_at": now,
    }


def _check_override(enabled: bool | None, name: str | None, description: str | None) -> None:
    if enabled is not None and not isinstance(enabled, bool):
        raise CatalogError("'enabled' must be true or false")
    if name is not None:
        if not isinstance(name, str):
            raise CatalogError("'name' must be a string")
        if name:
            check_tool_name(name)
    if description is not None and not isinstance(description, str):
        raise CatalogError("'description' must be a string")


async def _check_tool_exists(conn: AsyncConnection, tenant: str, api: str, key: str) -> None:
    query = select(Api.current_version_id).where(Api.tenant == tenant, Api.name == api)
    version_id = await conn.scalar(query)
    if version_id is None:
        raise CatalogError(f"no API named {api!r}")
    found = await conn.scalar(select(Tool.id).where(Tool.version_id == version_id, Tool.key == key))
    if found is None:
        raise CatalogError(f"API {api!r} has no operation {key!r}")


async def _override_row(conn: AsyncConnection, tenant: str, api: str, key: str) -> Row[Any] | None:
    query = select(ToolOverride).where(
        ToolOverride.tenant == tenant, ToolOverride.api_name == api, ToolOverride.tool_key == key
    )
    return (await conn.execute(query)).first()


def _merged_override(
    current: Row[Any] | None, enabled: bool | None, name: str | None, description: str | None
) -> dict[str, Any]:
    values = {
        "enabled": current.enabled if current is not None else None,
        "name": current.name if current is not None else None,
        "description": current.description if current is not None else None,
    }
    if enabled is not None:
        values["enabled"] = enabled
    if name is not None:
        values["name"] = name or None
    if description is not None:
        values["description"] = description or None
    return values


async def _save_override(
    conn: AsyncConnection,
    current: Row[Any] | None,
    tenant: str,
    api: str,
    key: str,
    values: dict[str, Any],
    now: datetime,
) -> None:
    if current is not None and all(v is None for v in values.values()):
        await conn.execute(delete(ToolOverride).where(ToolOverride.id == current.id))
    elif current is not None:
        query = update(ToolOverride).where(ToolOverride.id == current.id)
        await conn.execute(query.values(**values, updated_at=now))
    elif any(v is not None for v in values.values()):
        row = {"tenant": tenant, "api_name": api, "tool_key": key, "updated_at": now, **values}
        await conn.execute(insert(ToolOverride), row)


# -- read helpers ---------------------------------------------------------------------------------


def _current_versions_query() -> Any:
    return (
        select(
            Api.tenant,
            Api.name,
            Api.updated_at,
            ApiVersion.credentials.is_not(None).label("has_credentials"),
            *_VERSION_COLUMNS,
        )
        .join(ApiVersion, ApiVersion.id == Api.current_version_id)
        .order_by(Api.tenant, Api.name)
    )


def _catalog_apis_query() -> Any:
    return (
        select(
            Api.tenant,
            Api.name,
            ApiVersion.id,
            ApiVersion.version,
            ApiVersion.source,
            ApiVersion.title,
            ApiVersion.base_url,
            ApiVersion.security_schemes,
            ApiVersion.credentials,
        )
        .join(ApiVersion, ApiVersion.id == Api.current_version_id)
        .order_by(Api.tenant, Api.name)
    )


def _catalog_tools_query() -> Any:
    return (
        select(*_TOOL_COLUMNS)
        .join(Api, Api.current_version_id == Tool.version_id)
        .order_by(Tool.version_id, Tool.position)
    )


def _version_info(row: Row[Any]) -> ApiVersionInfo:
    return ApiVersionInfo(
        name=row.name,
        tenant=row.tenant,
        version=row.version,
        source=row.source,
        title=row.title,
        description=row.description,
        spec_version=row.spec_version,
        openapi_version=row.openapi_version,
        base_url=row.base_url,
        servers=decode_str_list(row.servers),
        security_schemes=decode_security_schemes(row.security_schemes),
        warnings=decode_str_list(row.warnings),
        tool_count=row.tool_count,
        has_credentials=bool(row.has_credentials),
        created_at=_iso(row.created_at),
        updated_at=_iso(row.updated_at),
    )


def _group_tools(rows: Sequence[Row[Any]]) -> dict[int, list[StoredTool]]:
    grouped: dict[int, list[StoredTool]] = {}
    for row in rows:
        grouped.setdefault(row.version_id, []).append(
            StoredTool(
                key=row.key,
                name=row.name,
                title=row.title,
                description=row.description,
                input_schema=row.input_schema,
                output_schema=row.output_schema,
                plan=row.plan,
                annotations=decode_object(row.annotations),
                scopes=tuple(decode_str_list(row.scopes)),
                tags=tuple(decode_str_list(row.tags)),
                deprecated=bool(row.deprecated),
            )
        )
    return grouped


def _group_overrides(rows: Sequence[Row[Any]]) -> dict[tuple[str, str], dict[str, ToolOverrideInfo]]:
    grouped: dict[tuple[str, str], dict[str, ToolOverrideInfo]] = {}
    for row in rows:
        grouped.setdefault((row.tenant, row.api_name), {})[row.tool_key] = ToolOverrideInfo(
            api=row.api_name,
            key=row.tool_key,
            tenant=row.tenant,
            enabled=row.enabled,
            name=row.name,
            description=row.description,
        )
    return grouped


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime) -> str:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()
