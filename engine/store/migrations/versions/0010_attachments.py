"""attachments: one row per uploaded evidence file

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:00:00

Issue 18: evidence files (photos of a rectification, of a 随手拍 report) are uploaded to a
workflow's attachment field (``format: attachment``) and kept in the blob store under their
SHA-256 (engine/blobs). Each upload is a row: the digest, the sniffed media type, the size, the
file name, the workflow and field it was uploaded for, the case (None: before the case was
opened) and who uploaded it. A payload that names a digest is accepted only if such a row
exists. One new table: existing rows untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("workflow", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("case_id", _ID, nullable=True),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploaded_role", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_attachments_sha256"), "attachments", ["sha256"], unique=False)
    op.create_index(op.f("ix_attachments_case_id"), "attachments", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_attachments_case_id"), table_name="attachments")
    op.drop_index(op.f("ix_attachments_sha256"), table_name="attachments")
    op.drop_table("attachments")
