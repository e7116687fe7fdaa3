"""The database backend the tests run on, from ``QINGLIU_TEST_DATABASE``.

Unset or ``sqlite``: every test gets a new SQLite file in its tmp folder (created on first use,
as the embedded default is). A PostgreSQL URL (``postgresql+psycopg://user:pw@host:port/db``):
every test gets its own new schema in that database, upgraded to the schema head, reached
through a URL whose ``search_path`` points at it; the schema and every connection left open on
it are dropped after the test. ``.ci/postgres.sh start`` starts a suitable server.
"""

from __future__ import annotations

import os
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.pool import NullPool, Pool

from engine.store import migrate
from engine.store.repository import Store

__all__ = ["ENV", "fresh_schema", "postgres_server", "server_problem"]

ENV = "QINGLIU_TEST_DATABASE"
_admin: dict[str, Engine] = {}
# Every driver connection opened in this process, so that the ones a test left open on its
# schema (an engine it never disposed) are closed with the schema instead of being garbage
# collected open (a ResourceWarning, an error under filterwarnings=error).
_opened: weakref.WeakSet[Any] = weakref.WeakSet()


@event.listens_for(Pool, "connect")
def _track(dbapi_connection: Any, _record: Any) -> None:
    if hasattr(dbapi_connection, "info") and hasattr(dbapi_connection.info, "parameter_status"):
        _opened.add(dbapi_connection)


def _close_left_open(schema: str) -> None:
    for connection in list(_opened):
        if connection.closed:
            continue
        try:
            name = connection.info.parameter_status("application_name")
        except Exception:  # a broken connection: closing it is all we want
            name = schema
        if name == schema:
            connection.close()


def postgres_server() -> str | None:
    """The PostgreSQL URL the tests run on, or None for SQLite."""
    value = os.environ.get(ENV, "").strip()
    if value in ("", "sqlite"):
        return None
    if not value.startswith("postgresql"):
        raise ValueError(f"{ENV} must be unset, 'sqlite' or a postgresql+psycopg:// URL")
    return value


def _admin_engine(server: str) -> Engine:
    if server not in _admin:
        _admin[server] = create_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    return _admin[server]


def server_problem(server: str) -> str | None:
    """Why the server cannot be used, or None when it answers."""
    try:
        with _admin_engine(server).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to connect is reported, whatever the driver says
        return f"cannot reach {migrate.hidden(server)} ({ENV}): {exc}"
    return None


@contextmanager
def fresh_schema(server: str, *, upgraded: bool = True) -> Iterator[str]:
    """A URL on a new schema of ``server``; dropped, with its connections, afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    url = make_url(server).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    url_text = url.render_as_string(hide_password=False)
    admin = _admin_engine(server)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        if upgraded:
            store = Store(url_text)
            try:
                migrate.upgrade(store)
            finally:
                store.dispose()
        yield url_text
    finally:
        _close_left_open(schema)
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": schema},
            )
            conn.execute(text("SET lock_timeout = '20s'"))
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
