"""a keyed history chain over one global sequence, its head, and ledger changes as history

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 03:10:00

For tamper evidence (issue 13, engine/store/_chain.py, engine/audit.py): before this revision
anyone who could write the database could recompute a case's plain SHA-256 chain, roll a case
back or delete it with its events, and `qingliu audit verify` still passed. Now every history
row takes a number in one gapless sequence across all cases (events.gseq; numbers are given
under the head's row lock, so they rise with events.id and need no index on the per-transition
path) and a link keyed with a secret kept outside the database (events.ghash, an HMAC over the
number, the link before it and the row's own hash). history_head is the one row (id 1) at the
end of that chain (latest number, link, and a MAC over both), moved in the committing
transaction. subject_events records every change the ledger service makes to an outfall record
(who, when, the patch) in the same chain, so ledger edits are history too.

Existing events are not re-chained: rehashing them under the key would vouch for rows nobody
can vouch for. They keep their plain SHA-256 per-case chains with gseq and ghash NULL (verify
checks them as before and counts them); the keyed chain starts from a MAC over the digest of
exactly those rows, taken at the first keyed write, so from then on they cannot change unseen
either. The head starts at 0 with no link: the upgrade needs no key.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gseq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("ghash", sa.String(length=64), nullable=True))
    op.create_table(
        "subject_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("subject_kind", sa.String(length=32), nullable=False),
        sa.Column("subject_key", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("jurisdiction", sa.String(length=64), nullable=True),
        sa.Column(
            "patch", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("gseq", sa.BigInteger(), nullable=False),
        sa.Column("ghash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_kind", "subject_key", "seq", name="uq_subject_events_seq"),
    )
    op.create_index("uq_subject_events_gseq", "subject_events", ["gseq"], unique=True)
    head = op.create_table(
        "history_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("gseq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.Column("mac", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(head, [{"id": 1, "gseq": 0, "hash": None, "mac": None, "updated_at": None}])


def downgrade() -> None:
    op.drop_table("history_head")
    op.drop_index("uq_subject_events_gseq", table_name="subject_events")
    op.drop_table("subject_events")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("ghash")
        batch_op.drop_column("gseq")
