"""index: the open case of a workflow about a subject

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:40:00

Issue 20: ``Tx.open_case_for_subject`` (workflow, subject, jurisdiction, is_open) had no index
it could use (``uq_cases_open_subject`` is partial on ``subject_unique``, which the lookup does
not name), so SQLite read every case of the workflow: 0.8 ms a lookup at 4,000 responsibility
cases and growing, once for each row of a ledger import. ix_cases_workflow_subject makes it an
index search. Index only: no row changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_cases_workflow_subject", "cases", ["workflow", "subject"])


def downgrade() -> None:
    op.drop_index("ix_cases_workflow_subject", table_name="cases")
