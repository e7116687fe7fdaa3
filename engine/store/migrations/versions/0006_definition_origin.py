"""where each definition version came from: a file (its path) or the API (the admin)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 14:10:00

Issue 16: `qingliu serve` republished the workflows folder at every start, and a file whose
text differed from the latest version became a newer one, undoing a version an admin had
published with `PUT /api/v1/workflows/{name}`. The database now holds the versions and a folder
is an import (engine/catalog.py): loading needs to know whether the latest version was imported
from a file or published through the API, and by whom. definitions.origin is "file" or "api",
definitions.origin_ref the file's path or the admin's name. Existing rows keep NULL: they were
all published by loading files or by PUT, which nobody can tell apart now, and count as files.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("definitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("origin_ref", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("definitions", schema=None) as batch_op:
        batch_op.drop_column("origin_ref")
        batch_op.drop_column("origin")
