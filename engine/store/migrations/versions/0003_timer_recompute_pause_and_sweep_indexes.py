"""timers recompute base, paused remaining time and sweep indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 17:26:13.800823

For durable timers (issue 7, engine/time/): base_at + duration say what a due time was counted
from, so a provisional due time (a year the working-day calendar did not cover) can be recounted
once the calendar gains that year; remaining_seconds / remaining_working_days hold the time left
on a paused deadline. ix_timers_pending_due (partial: pending rows only) makes the sweep's cost
follow the due timers, not the table; ix_timers_provisional (partial: pending provisional rows)
finds the due times a newly covered calendar year can settle. Existing rows get NULLs: they are
not recomputable and none is paused.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("duration", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("remaining_seconds", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("remaining_working_days", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_timers_pending_due",
            ["due_at", "id"],
            unique=False,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index(
            "ix_timers_provisional",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text("provisional = 1 AND status = 'pending'"),
            postgresql_where=sa.text("provisional AND status = 'pending'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_timers_provisional",
            sqlite_where=sa.text("provisional = 1 AND status = 'pending'"),
            postgresql_where=sa.text("provisional AND status = 'pending'"),
        )
        batch_op.drop_index(
            "ix_timers_pending_due",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_column("remaining_working_days")
        batch_op.drop_column("remaining_seconds")
        batch_op.drop_column("duration")
        batch_op.drop_column("base_at")
