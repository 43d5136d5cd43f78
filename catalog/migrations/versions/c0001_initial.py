"""Initial catalog schema.

Revision ID: c0001
Revises:
Create Date: 2025-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant", sa.String(64), server_default="default", nullable=False)


def upgrade() -> None:
    op.create_table(
        "apis",
        sa.Column("id", sa.Integer(), nullable=False),
        _tenant(),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_apis"),
        sa.UniqueConstraint("tenant", "name", name="uq_apis_tenant_name"),
    )
    op.create_table(
        "api_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_id", sa.Integer(), nullable=False),
        _tenant(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("spec_version", sa.Text(), nullable=False),
        sa.Column("openapi_version", sa.String(32), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column("servers", sa.Text(), nullable=False),
        sa.Column("security_schemes", sa.Text(), nullable=False),
        sa.Column("credentials", sa.LargeBinary(), nullable=True),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.Column("tool_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_id"], ["apis.id"], name="fk_api_versions_api_id_apis", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_versions"),
        sa.UniqueConstraint("api_id", "version", name="uq_api_versions_api_id_version"),
    )
    # The cycle apis <-> api_versions is closed once both tables exist (batch mode: SQLite
    # has no ALTER ... ADD CONSTRAINT, so Alembic rebuilds the still empty table there).
    with op.batch_alter_table("apis") as batch:
        batch.create_foreign_key(
            "fk_apis_current_version_id_api_versions",
            "api_versions",
            ["current_version_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "tools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        _tenant(),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("input_schema", sa.Text(), nullable=False),
        sa.Column("output_schema", sa.Text(), nullable=True),
        sa.Column("annotations", sa.Text(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("deprecated", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["api_versions.id"], name="fk_tools_version_id_api_versions", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tools"),
        sa.UniqueConstraint("version_id", "key", name="uq_tools_version_id_key"),
    )
    op.create_table(
        "tool_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        _tenant(),
        sa.Column("api_name", sa.String(32), nullable=False),
        sa.Column("tool_key", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("name", sa.String(64), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tool_overrides"),
        sa.UniqueConstraint(
            "tenant", "api_name", "tool_key", name="uq_tool_overrides_tenant_api_name_tool_key"
        ),
    )
    state = op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_catalog_state_single_row")),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_state"),
    )
    op.bulk_insert(state, [{"id": 1, "revision": 0}])


def downgrade() -> None:
    with op.batch_alter_table("apis") as batch:
        batch.drop_constraint("fk_apis_current_version_id_api_versions", type_="foreignkey")
    for table in ("catalog_state", "tool_overrides", "tools", "api_versions", "apis"):
        op.drop_table(table)
