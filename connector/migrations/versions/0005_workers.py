"""Workers: company leases, heartbeats, shared rate budgets, sync backoff, reconnect notices.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:36:02.102860
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_budgets",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_budgets")),
    )
    op.create_table(
        "rate_calls",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_calls")),
    )
    with op.batch_alter_table("rate_calls", schema=None) as batch_op:
        batch_op.create_index("ix_rate_calls_key_at", ["key", "at"], unique=False)

    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_heartbeats")),
    )
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reconnect_notified_at", sa.DateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker", sa.String(length=100), nullable=True))

    with op.batch_alter_table("sync_states", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failures", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_states", schema=None) as batch_op:
        batch_op.drop_column("failures")

    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_column("worker")

    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_column("reconnect_notified_at")

    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")

    op.drop_table("worker_heartbeats")
    with op.batch_alter_table("rate_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_rate_calls_key_at")

    op.drop_table("rate_calls")
    op.drop_table("rate_budgets")
