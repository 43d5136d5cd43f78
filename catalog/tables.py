"""The catalog schema. Alembic migrations (catalog/migrations) create it; this module describes it.

JSON payloads are stored as text the store encodes itself: the hub hands tool schemas to
clients mostly untouched, so reading them back as raw text (parsed lazily) is the cheap path.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DEFAULT_TENANT = "default"

# Deterministic constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _tenant() -> Mapped[str]:
    return mapped_column(String(64), default=DEFAULT_TENANT, server_default=DEFAULT_TENANT)


class Api(Base):
    """A registered API: a stable name pointing at its current version."""

    __tablename__ = "apis"
    __table_args__ = (UniqueConstraint("tenant", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = _tenant()
    name: Mapped[str] = mapped_column(String(32))
    # The FK closes a cycle with api_versions.api_id; use_alter makes it a separate ALTER step.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_versions.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiVersion(Base):
    """One import of a spec. Immutable once written; the newest few are kept."""

    __tablename__ = "api_versions"
    __table_args__ = (UniqueConstraint("api_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api_id: Mapped[int] = mapped_column(ForeignKey("apis.id", ondelete="CASCADE"))
    tenant: Mapped[str] = _tenant()
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)  # file path or URL the spec came from
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    spec_version: Mapped[str] = mapped_column(Text)  # info.version
    openapi_version: Mapped[str] = mapped_column(String(32))
    base_url: Mapped[str | None] = mapped_column(Text)
    servers: Mapped[str] = mapped_column(Text)  # JSON list
    security_schemes: Mapped[str] = mapped_column(Text)  # JSON object: name -> SecurityScheme fields
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary)  # Fernet token of a JSON object
    warnings: Mapped[str] = mapped_column(Text)  # JSON list
    tool_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Tool(Base):
    """One operation of one API version."""

    __tablename__ = "tools"
    # Also serves lookups by version (its leading column), so no separate version index.
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("api_versions.id", ondelete="CASCADE"))
    tenant: Mapped[str] = _tenant()
    key: Mapped[str] = mapped_column(Text)  # "GET /pets/{petId}": stable across re-imports
    name: Mapped[str] = mapped_column(String(64))  # unprefixed; the snapshot adds the API namespace
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    input_schema: Mapped[str] = mapped_column(Text)  # JSON
    output_schema: Mapped[str | None] = mapped_column(Text)  # JSON
    annotations: Mapped[str] = mapped_column(Text)  # JSON object
    plan: Mapped[str] = mapped_column(Text)  # JSON of OperationPlan.to_dict()
    scopes: Mapped[str] = mapped_column(Text)  # JSON list
    tags: Mapped[str] = mapped_column(Text)  # JSON list
    deprecated: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[int] = mapped_column(Integer)  # order in the spec


class ToolOverride(Base):
    """Operator changes to one tool, keyed by API name and tool key so they outlive re-imports."""

    __tablename__ = "tool_overrides"
    __table_args__ = (UniqueConstraint("tenant", "api_name", "tool_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = _tenant()
    api_name: Mapped[str] = mapped_column(String(32))
    tool_key: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool | None] = mapped_column(Boolean)
    name: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CatalogState(Base):
    """One row. `revision` moves in every write transaction; hubs poll it to know when to reload."""

    __tablename__ = "catalog_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


STATE_ROW_ID = 1


# The embedded authorization server's tables (migration c0002_auth); Core tables, used by hub/auth/store.py.
auth_users = Table(
    "auth_users",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("name", String(128), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("is_admin", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
)
auth_clients = Table(
    "auth_clients",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("client_id", String(512), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # "dcr", "cimd" or "cli"
    Column("tenant", String(64)),  # fixed tenant (client credentials); None: the user's
    Column("name", Text),
    Column("secret_hash", String(64)),
    Column("auth_method", String(32), nullable=False),
    Column("redirect_uris", Text, nullable=False),
    Column("grant_types", Text, nullable=False),
    Column("scope", Text),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)
auth_codes = Table(
    "auth_codes",
    Base.metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("client_id", String(512), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("tenant", String(64), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("resource", Text, nullable=False),
    Column("code_challenge", String(128), nullable=False),
    Column("expires_at", Float, nullable=False),
)
auth_refresh_tokens = Table(
    "auth_refresh_tokens",
    Base.metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("family_id", String(64), nullable=False),
    Column("client_id", String(512), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("tenant", String(64), nullable=False),
    Column("scope", Text, nullable=False),
    Column("resource", Text, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),
    Column("revoked", Boolean, nullable=False),
    Index("ix_auth_refresh_tokens_family_id", "family_id"),
)
