"""Pre-incasso: collection settings, cases, holds, deliveries and usage lines.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:59:47.137862
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collection_settings",
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("vat_increase", sa.Boolean(), nullable=False),
        sa.Column("sender", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_collection_settings_company_id_companies"),
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_collection_settings")),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("debtor_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("step_name", sa.String(length=60), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("template", sa.String(length=60), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("bik_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("skip_reason", sa.String(length=200), nullable=True),
        sa.Column("channel_ref", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sending_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_deliveries_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name=op.f("fk_deliveries_debtor_id_debtors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliveries_company_state_due", ["company_id", "state", "due_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_deliveries_debtor_id"), ["debtor_id"], unique=False)

    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("invoice_id", sa.String(length=32), nullable=False),
        sa.Column("debtor_id", sa.String(length=32), nullable=False),
        sa.Column("variant", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("next_step", sa.Integer(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("last_step_on", sa.Date(), nullable=True),
        sa.Column("principal", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("letter_posted_on", sa.Date(), nullable=True),
        sa.Column("last_day_to_pay", sa.Date(), nullable=True),
        sa.Column("costs_due_from", sa.Date(), nullable=True),
        sa.Column("bik_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.String(length=40), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_cases_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name=op.f("fk_cases_debtor_id_debtors")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_cases_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_cases_invoice_id")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_company_state", ["company_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_debtor_id"), ["debtor_id"], unique=False)

    op.create_table(
        "usage_lines",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("delivery_id", sa.String(length=32), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_usage_lines_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["deliveries.id"], name=op.f("fk_usage_lines_delivery_id_deliveries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_lines")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_usage_lines_delivery_id")),
    )
    with op.batch_alter_table("usage_lines", schema=None) as batch_op:
        batch_op.create_index("ix_usage_lines_company_month", ["company_id", "month"], unique=False)

    op.create_table(
        "delivery_cases",
        sa.Column("delivery_id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_delivery_cases_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_cases_delivery_id_deliveries"),
        ),
        sa.PrimaryKeyConstraint("delivery_id", "case_id", name=op.f("pk_delivery_cases")),
    )
    with op.batch_alter_table("delivery_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_cases_case_id"), ["case_id"], unique=False)

    op.create_table(
        "holds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=True),
        sa.Column("debtor_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_holds_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_holds_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name=op.f("fk_holds_debtor_id_debtors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_holds_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_holds_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_holds_debtor_id"), ["debtor_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_holds_debtor_id"))
        batch_op.drop_index(batch_op.f("ix_holds_company_id"))
        batch_op.drop_index(batch_op.f("ix_holds_case_id"))

    op.drop_table("holds")
    with op.batch_alter_table("delivery_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_cases_case_id"))

    op.drop_table("delivery_cases")
    with op.batch_alter_table("usage_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_lines_company_month")

    op.drop_table("usage_lines")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_debtor_id"))
        batch_op.drop_index("ix_cases_company_state")

    op.drop_table("cases")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_debtor_id"))
        batch_op.drop_index("ix_deliveries_company_state_due")

    op.drop_table("deliveries")
    op.drop_table("collection_settings")
