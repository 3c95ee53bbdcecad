"""Room for several webhook subscription ids per connection (Exact Online: one per topic).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.alter_column("webhook_id", type_=sa.Text(), existing_type=sa.String(length=64),
                              existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.alter_column("webhook_id", type_=sa.String(length=64), existing_type=sa.Text(),
                              existing_nullable=True)
