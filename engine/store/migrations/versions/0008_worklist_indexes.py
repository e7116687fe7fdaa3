"""indexes for the console's work list (待办): timers by case and due time, cases by state

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 18:00:00

Issue 17: 待办 (engine/worklist.py, engine/store/_worklist.py) reads each case's earliest
running timer and the cases in given (definition version, state) pairs. ix_timers_case
(case_id, status) becomes ix_timers_case_due (case_id, status, due_at): the same prefix for
every query that used it, and the earliest due time of a case's pending timers read from the
index alone (without it SQLite walked every pending timer in due order for each case: seconds
at 20k cases). ix_cases_definition_state (definition_id, state, jurisdiction, is_open) makes
each (version, state) pair of the work list an index search, and its count read from the
index alone. Indexes only: no row changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_timers_case_due", "timers", ["case_id", "status", "due_at"])
    op.drop_index("ix_timers_case", table_name="timers")
    op.create_index(
        "ix_cases_definition_state", "cases", ["definition_id", "state", "jurisdiction", "is_open"]
    )


def downgrade() -> None:
    op.drop_index("ix_cases_definition_state", table_name="cases")
    op.create_index("ix_timers_case", "timers", ["case_id", "status"])
    op.drop_index("ix_timers_case_due", table_name="timers")
