"""Scheduler heartbeats

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 01:45:00

GET /readyz must tell whether some timer sweep runs against the database, whichever process
runs it (``qingliu serve`` or a separate ``qingliu scheduler``, possibly on another host): each
sweep rewrites its scheduler's row with the wall-clock time it ran and its interval, and the
readiness check reads the freshest row (engine/store/_ops.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduler_heartbeats",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("scheduler_heartbeats")
