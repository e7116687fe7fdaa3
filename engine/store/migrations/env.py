"""Alembic environment: runs on the connection that ``engine.store.migrate`` hands over (already
in a transaction that holds the migration lock), never from an alembic.ini URL."""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.dialects.postgresql import JSONB

from engine.store.tables import UTCDateTime, metadata


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Revisions must not import the application: UTCDateTime is a plain DateTime column.
    JSONB is rendered without alembic's ``astext_type=Text()``, which it forgets to import."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    if kind == "type" and isinstance(obj, JSONB):
        if autogen_context.imports is not None:
            autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "postgresql.JSONB()"
    return False


def run() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, sa.Connection):
        raise RuntimeError("run migrations with `qingliu db upgrade`, not the alembic command")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
