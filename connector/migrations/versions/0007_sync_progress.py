"""Sync progress: how many invoices a running pass will bring, where the platform tells.

Revision ID: 0007
Revises: 0009
Create Date: 2026-11-27 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expected_invoices", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_states", schema=None) as batch_op:
        batch_op.drop_column("expected_invoices")
