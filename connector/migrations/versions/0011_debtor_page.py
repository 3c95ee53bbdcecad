"""The debtor's page: links behind deliveries (hashed tokens) and the debtor's responses.

Revision ID: 0011
Revises: 0006
Create Date: 2026-11-27 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "debtor_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("delivery_id", sa.String(length=32), nullable=False),
        sa.Column("debtor_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"],
                                name=op.f("fk_debtor_links_company_id_companies")),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"],
                                name=op.f("fk_debtor_links_debtor_id_debtors")),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"],
                                name=op.f("fk_debtor_links_delivery_id_deliveries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debtor_links")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_debtor_links_delivery_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_debtor_links_token_hash")),
    )
    with op.batch_alter_table("debtor_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_debtor_links_company_id"), ["company_id"])
        batch_op.create_index(batch_op.f("ix_debtor_links_debtor_id"), ["debtor_id"])
    op.create_table(
        "debtor_responses",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("delivery_id", sa.String(length=32), nullable=False),
        sa.Column("debtor_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("corrections", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"],
                                name=op.f("fk_debtor_responses_company_id_companies")),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"],
                                name=op.f("fk_debtor_responses_debtor_id_debtors")),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"],
                                name=op.f("fk_debtor_responses_delivery_id_deliveries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debtor_responses")),
        sa.UniqueConstraint("delivery_id", "kind", name=op.f("uq_debtor_responses_delivery_id")),
    )
    with op.batch_alter_table("debtor_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_debtor_responses_company_id"), ["company_id"])
        batch_op.create_index(batch_op.f("ix_debtor_responses_debtor_id"), ["debtor_id"])
        batch_op.create_index(batch_op.f("ix_debtor_responses_delivery_id"), ["delivery_id"])


def downgrade() -> None:
    op.drop_table("debtor_responses")
    op.drop_table("debtor_links")
