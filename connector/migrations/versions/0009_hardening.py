"""Hardening (#18): operator session versions; write-back keys unique per company.

Revision ID: 0009
Revises: 0011
Create Date: 2026-11-27 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), nullable=False,
                                      server_default="0"))
    # Write-back keys are the server's and unique per company, not across all companies.
    with op.batch_alter_table("ledger_writes", schema=None) as batch_op:
        batch_op.drop_constraint("uq_ledger_writes_key", type_="unique")
        batch_op.create_unique_constraint("uq_ledger_writes_company_id", ["company_id", "key"])


def downgrade() -> None:
    with op.batch_alter_table("ledger_writes", schema=None) as batch_op:
        batch_op.drop_constraint("uq_ledger_writes_company_id", type_="unique")
        batch_op.create_unique_constraint("uq_ledger_writes_key", ["key"])
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_column("session_version")
