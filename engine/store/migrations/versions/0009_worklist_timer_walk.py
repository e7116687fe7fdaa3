"""an index for the console's work list (待办): running timers in due order, with their case

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 18:30:00

Issue 17: 待办 (engine/store/_worklist.py) reads its first part by walking the pending timers
in (due_at, case_id) order to their cases and stops once the page is full, and counts the
overdue cases over the range of pending timers due by now. ix_timers_status_due_case
(status, due_at, case_id) gives that order and the case id from the index alone.
ix_timers_status_due stays (the sweep names it in an INDEXED BY hint). Indexes only.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_timers_status_due_case", "timers", ["status", "due_at", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_timers_status_due_case", table_name="timers")
