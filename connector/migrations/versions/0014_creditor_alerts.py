"""Creditor alerts: which e-mail alerts and weekly summary a company wants (#16).

Revision ID: 0014
Revises: 0007
Create Date: 2026-11-27 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("collection_settings") as batch:
        batch.add_column(sa.Column("alerts", sa.JSON(), nullable=True))
    op.create_table(
        "alerts_sent",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"],
                                name=op.f("fk_alerts_sent_company_id_companies")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_alerts_sent")),
    )
    op.create_index(op.f("ix_alerts_sent_company_id"), "alerts_sent", ["company_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_alerts_sent_company_id"), table_name="alerts_sent")
    op.drop_table("alerts_sent")
    with op.batch_alter_table("collection_settings") as batch:
        batch.drop_column("alerts")
