"""随手拍: receipt codes, the reports accepted per address, the challenges solved

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:00:00

Issue 18: a member of the public files a 随手拍 report on the public form (handlers/public) and
gets a receipt code to follow it without an account. public_receipts keeps only the code's
keyed hash (HMAC-SHA-256) and the case it opens. public_report_hits counts the reports accepted
per client address for the per-hour and per-day limits, shared by every server process; the
address is kept as a keyed hash only (an address is personal data). public_challenges holds
the digests of the proof-of-work challenges solved, until they expire, so none is used twice.
Three new tables: existing rows untouched.

Written on the snapshot branch after 0009; re-pointed at 0010 (attachments) when the
attachments branch was merged into it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "public_receipts",
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("receipt_hash"),
        sa.UniqueConstraint("case_id"),
    )
    op.create_table(
        "public_report_hits",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_public_report_hits_address_at", "public_report_hits", ["address_hash", "at"]
    )
    op.create_table(
        "public_challenges",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index(
        op.f("ix_public_challenges_expires_at"), "public_challenges", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_public_challenges_expires_at"), table_name="public_challenges")
    op.drop_table("public_challenges")
    op.drop_index("ix_public_report_hits_address_at", table_name="public_report_hits")
    op.drop_table("public_report_hits")
    op.drop_table("public_receipts")
