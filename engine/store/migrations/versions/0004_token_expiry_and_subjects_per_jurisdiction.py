"""token expiry, case parties, and open-case subjects unique per workflow and jurisdiction

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 00:40:00

For read access and token hygiene (issue 13): api_tokens.expires_at (NULL for tokens made
before: they keep working until revoked, `qingliu token list` shows them as never expiring);
uq_cases_open_subject now includes the jurisdiction, so a county's business key (an outfall
code, a permit number) blocks only that county's second open case, never another county's;
case_parties names who outside government a case is about (the party that opened it, the names
its definition's party fields hold), so a party's list is one indexed query. Existing cases get
no party rows: parties see none of them until a party field of theirs changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "is_open AND subject IS NOT NULL"
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "case_parties",
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("party", sa.String(length=200), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("case_id", "party"),
    )
    op.create_index("ix_case_parties_party", "case_parties", ["party", "case_id"], unique=False)
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("uq_cases_open_subject")
        batch_op.create_index(
            "uq_cases_open_subject",
            ["workflow", "jurisdiction", "subject"],
            unique=True,
            sqlite_where=sa.text(_OPEN),
            postgresql_where=sa.text(_OPEN),
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("uq_cases_open_subject")
        batch_op.create_index(
            "uq_cases_open_subject",
            ["workflow", "subject"],
            unique=True,
            sqlite_where=sa.text(_OPEN),
            postgresql_where=sa.text(_OPEN),
        )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    op.drop_index("ix_case_parties_party", table_name="case_parties")
    op.drop_table("case_parties")
