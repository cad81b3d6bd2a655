"""multitenancy: tenants, tenant-owned items, row-level security

Revision ID: tenancy_0001
Revises:
Create Date: 2026-01-01 00:00:00+00:00

Items become tenant-owned: `items.tenant_id` defaults to `current_setting('app.tenant_id')`,
the tenant the app sets with `SET LOCAL` in every transaction, and a policy lets a transaction
see, change and insert only rows of that tenant. `FORCE ROW LEVEL SECURITY` holds the table's
owner to the policy too; only a superuser or a BYPASSRLS role escapes it, and the app's role
(DATABASE_APP_ROLE) is neither. Items that exist before this migration belong to the tenant
named by `alembic -x tenant=<id> upgrade heads` (default: `default`), which is created for them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "tenancy_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("multitenancy",)
depends_on: str | Sequence[str] | None = "0001"

# Empty, not missing, on a connection that served a tenant before: then it matches no tenant.
TENANT = "NULLIF(current_setting('app.tenant_id', true), '')"


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("plan", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.add_column("items", sa.Column("tenant_id", sa.String(length=64), nullable=True))
    existing = context.get_x_argument(as_dictionary=True).get("tenant", "default")
    items = sa.table("items", sa.column("tenant_id", sa.String))
    if op.get_bind().execute(sa.select(sa.literal(1)).select_from(items).limit(1)).first():
        op.execute(
            sa.text(
                "INSERT INTO tenants (id, name, plan) VALUES (:t, :t, 'free') "
                "ON CONFLICT DO NOTHING"
            ).bindparams(t=existing)
        )
        op.execute(items.update().values(tenant_id=existing))
    op.alter_column(
        "items",
        "tenant_id",
        nullable=False,
        server_default=sa.text("current_setting('app.tenant_id')"),
    )
    op.create_index(
        "ix_items_tenant_id_created_at", "items", ["tenant_id", "created_at", "id"], unique=False
    )
    op.execute("ALTER TABLE items ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE items FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON items USING (tenant_id = {TENANT}) "
        f"WITH CHECK (tenant_id = {TENANT})"
    )


def downgrade() -> None:
    op.execute("DROP POLICY tenant_isolation ON items")
    op.execute("ALTER TABLE items NO FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE items DISABLE ROW LEVEL SECURITY")
    op.drop_index("ix_items_tenant_id_created_at", table_name="items")
    op.drop_column("items", "tenant_id")
    op.drop_table("tenants")
