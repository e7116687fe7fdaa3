"""One open case per subject only where the definition says so

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:50:00

uq_cases_open_subject made every subject a business key among the open cases of its workflow
and jurisdiction, whatever the definition said: a workflow without one_open_case_per_subject
(enforcement: two exceedances of one outfall; a notice per problem found) could not open a
second case about the same subject, and the insert failed with an integrity error (a 500)
instead of opening it. cases.subject_unique records the definition's choice when the case
opens, and the index covers only those cases. Existing rows get true: they were all unique
under the old index, so nothing changes for them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "is_open AND subject IS NOT NULL"
_NEW = "is_open AND subject IS NOT NULL AND subject_unique"


def _index(where: str) -> None:
    op.create_index(
        "uq_cases_open_subject",
        "cases",
        ["workflow", "jurisdiction", "subject"],
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


# No batch mode: SQLite adds a column with a constant default and swaps an index in place,
# where a batch would copy the cases table and trip the events' foreign keys.
def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column("subject_unique", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.drop_index("uq_cases_open_subject", table_name="cases")
    _index(_NEW)


def downgrade() -> None:
    op.drop_index("uq_cases_open_subject", table_name="cases")
    _index(_OLD)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("subject_unique")
